"""``nccid config show``: effective values with sources, text and JSON, in-process and installed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from nccid_desktop.cli import main

ROOT = Path(__file__).resolve().parents[2]
POLICY = '''server_url = "https://nccid.example.nhs.uk"
proxy = "http://helpdesk:S3cretProxyPw@proxy.trust.nhs.uk:8080"
locked = ["server_url"]
'''


def _policy(tmp_path: Path, monkeypatch, text: str = POLICY) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(path))
    return path


def test_show_as_json_gives_value_source_and_lock_without_proxy_password(tmp_path, monkeypatch,
                                                                         capsys):
    policy = _policy(tmp_path, monkeypatch)
    monkeypatch.setenv("NCCID_USER", "nurse1")
    assert main(["config", "show", "--format", "json"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    rows = {row["name"]: row for row in shown["settings"]}
    assert rows["server_url"] == {"name": "server_url", "label": "Collection service address",
                                      "value": "https://nccid.example.nhs.uk",
                                      "source": "policy", "locked": True}
    assert (rows["username"]["value"], rows["username"]["source"]) == ("nurse1", "environment")
    assert rows["proxy"]["value"] == "http://***@proxy.trust.nhs.uk:8080"
    assert rows["linking"] == {"name": "linking", "label": "Identifier PACS puts in PatientID",
                               "value": "hospital", "source": "default", "locked": False}
    assert shown["policy_file"] == str(policy) and shown["policy_file_present"]
    assert "S3cretProxyPw" not in out


def test_show_as_text_is_a_table(tmp_path, monkeypatch, capsys):
    _policy(tmp_path, monkeypatch)
    assert main(["config", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Setting", "Value", "Source"]
    assert lines[1].split() == ["server_url", "https://nccid.example.nhs.uk", "policy,", "locked"]
    assert any(line.split() == ["linking", "hospital", "default"] for line in lines)
    assert any(line.startswith("Machine policy:") and line.endswith("(present)") for line in lines)


def test_a_malformed_policy_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    policy = _policy(tmp_path, monkeypatch, 'site = "RSH"\n\nlinking = pacs\n')
    assert main(["config", "show"]) == 2  # bad input, as every command answers it
    err = capsys.readouterr().err
    assert err.startswith(f"nccid: The machine policy file {policy} is not valid TOML")
    assert "line 3" in err and "Traceback" not in err


def test_installed_command_shows_the_policy(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('site = "RSH"\nlocked = ["site"]\n', encoding="utf-8")
    env = {**os.environ, "NCCID_HOME": str(tmp_path / "home"), "NCCID_POLICY_FILE": str(policy)}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nccid"), "config", "show", "--format",
                           "json"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["settings"]}
    assert (rows["site"]["value"], rows["site"]["source"], rows["site"]["locked"]) == \
        ("RSH", "policy", True)
