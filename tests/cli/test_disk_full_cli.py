"""``nccid upload images`` and ``nccid resume`` on a full disk (a small real file system):
a plain message naming the folder and how much to free, exit 1, never "something unexpected
went wrong"; once space is freed ``nccid resume`` sends every image exactly once."""

from __future__ import annotations

import re

from nccid_desktop.cli import main
from tests.workflows.send_setup import export, sheet
from tests.workflows.small_disk import MB, fill, small_disk


def test_a_full_disk_is_said_plainly_and_resume_finishes_once_space_is_freed(
        tmp_path, signed_env, capsys, monkeypatch) -> None:
    pacs = export(tmp_path / "pacs", [951, 952], 3)
    status = sheet(tmp_path / "status.xlsx", [951, 952])
    with small_disk(tmp_path / "disk", 48) as disk:
        monkeypatch.setenv("NCCID_HOME", str(disk / "home"))
        filler = fill(disk, leave=4 * MB)
        assert main(["upload", "images", str(pacs), "--sheet", str(status)]) == 1
        err = capsys.readouterr().err
        assert "There is not enough free space on the disk holding" in err
        assert str(disk / "home") in err and "something unexpected" not in err
        assert re.search(r"Free \d+ MB and press Resume \(or run 'nccid resume'\)", err)

        filler.unlink()
        filler = fill(disk)  # now nothing at all is free
        assert main(["resume"]) == 1
        err = capsys.readouterr().err
        assert re.search(r"(The disk holding .+ is full: free|enough free space on the disk "
                         r"holding .+ Free) \d+ MB", err), err
        assert "something unexpected" not in err

        filler.unlink()
        assert main(["resume"]) == 0
        capsys.readouterr()
        assert main(["resume"]) == 0
        assert "Nothing is waiting" in capsys.readouterr().out
    files = [p.stem for p in signed_env.raw_files("images")]
    assert len(files) == len(set(files)) == 6
