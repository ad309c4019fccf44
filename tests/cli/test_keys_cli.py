from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nccid_desktop.cli import main
from nccid_desktop.keys import load_key_file
from nccid_desktop.pseudonym import linkage_token, open_linkage_token


def test_keys_generate_writes_a_site_file_and_a_separate_controller_key(tmp_path: Path, capsys) -> None:
    out = tmp_path / "rsh.json"
    assert main(["keys", "generate", "--site", "rsh", "-o", str(out)]) == 0
    keys = load_key_file(out, site="RSH")
    private = (tmp_path / "rsh.json.controller.pem").read_bytes()
    assert b"PRIVATE KEY" in private and b"PRIVATE" not in out.read_bytes()
    assert open_linkage_token(private, linkage_token(keys, "9434765919"), "RSH") == "9434765919"
    assert "written" in capsys.readouterr().out


def test_bad_site_code_is_a_plain_error(tmp_path: Path, capsys) -> None:
    assert main(["keys", "generate", "--site", "R/S", "-o", str(tmp_path / "k.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nccid: ") and "Traceback" not in err


def test_the_installed_command_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nccid_desktop", "keys", "generate", "--site", "RSH",
         "-o", str(tmp_path / "k.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "k.json").exists()
