"""``nccid upload images`` and ``nccid resume`` when files of a job are gone: the rest is sent,
the job is named by date and size (never a folder) with the command that drops it."""

from __future__ import annotations

import shutil

from nccid_desktop.cli import main
from nccid_desktop.workflows import send_job
from tests.workflows.send_setup import export, sheet


def test_a_job_whose_files_are_gone_is_said_and_can_be_dropped(tmp_path, signed_env, capsys,
                                                               monkeypatch) -> None:
    pacs = export(tmp_path / "pacs", [701, 702], 3)
    status = sheet(tmp_path / "status.xlsx", [701, 702])
    monkeypatch.setattr(send_job, "CHUNK_FILES", 3)
    real = send_job.SendJob._deidentify

    def unplugged_after_the_first_chunk(self, chunk, run_dir, cancel):
        done = real(self, chunk, run_dir, cancel)
        shutil.rmtree(pacs / "EXPORTED702", ignore_errors=True)
        return done

    monkeypatch.setattr(send_job.SendJob, "_deidentify", unplugged_after_the_first_chunk)
    assert main(["upload", "images", str(pacs), "--sheet", str(status)]) == 1
    out = capsys.readouterr().out
    assert "Images: 3 stored, 0 already held." in out
    assert "3 files of the job of " in out and "(6 files) can no longer be found" in out
    assert "To drop it: nccid resume --drop 1" in out
    assert "3 items are still waiting; run 'nccid resume' to send them." in out
    assert str(tmp_path) not in out and "EXPORTED" not in out

    assert main(["resume"]) == 1, "still gone: still waiting"
    out = capsys.readouterr().out
    assert "3 files of the job of " in out and "nccid resume --drop 1" in out
    assert main(["resume", "--drop", "7"]) == 1
    assert "not in the journal" in capsys.readouterr().err
    assert main(["resume", "--drop", "1"]) == 0
    assert capsys.readouterr().out.startswith("Dropped the job of ")
    assert main(["resume"]) == 0
    assert "Nothing is waiting" in capsys.readouterr().out
    assert len(signed_env.raw_files("images")) == 3
