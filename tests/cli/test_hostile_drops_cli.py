"""The issue's hostile drops through the real command, in a child process, memory measured.

Before: a 2 MB zip holding a DICOM file with 2 GB of zero pixels took 37 s, 4.25 GB of memory
and wrote 2.15 GB into staging. Now it is refused unread, named on screen with the reason,
the other files are de-identified, and the whole run stays in well under 300 MB.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dicom import builders
from tests.faults import bombs
from tests.faults.measure import run_nccid

GiB = 2**30


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    big = builders.ct_slice(instance=2)
    del big.PixelData
    big.Rows = big.Columns = 16384
    big.NumberOfFrames = 4  # 16384 x 16384 x 4 x 16 bits: 2 GiB, as the header says
    root = tmp_path / "drop"
    bombs.write_zip(root / "export.zip", [
        bombs.plain("CT/IM0001", bombs.dicom_header(builders.ct_slice(instance=1))),
        bombs.zero_pixel_image("CT/IM0002", big, 2 * GiB)])
    builders.write(builders.ct_slice(instance=3), root / "CT" / "IM0003")
    return root


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_deid_refuses_the_zip_bomb_by_name_and_stages_the_rest(drop, tmp_path, key_file):
    staging = tmp_path / "run" / "staging"
    run = run_nccid("deid", drop, "--out", staging, "--key-file", key_file, "--site", "RSH")
    assert run.returncode == 1, run.stderr
    assert "2 files de-identified for 1 patients" in run.stdout
    assert "1 files refused" in run.stdout
    named = [line for line in run.stdout.splitlines() if "export.zip!CT/IM0002" in line]
    assert len(named) == 1 and "decompression bomb" in named[0]
    assert "Traceback" not in run.stderr + run.stdout
    assert len(list(staging.iterdir())) == 2
    assert _size(tmp_path / "run") < 1_000_000  # staging, quarantine and the audit
    assert 0 < run.peak_mb < 300, run.peak_mb


def test_deid_json_and_audit_carry_the_refusal_without_the_path(drop, tmp_path, key_file):
    audit = tmp_path / "audit.json"
    run = run_nccid("deid", drop, "--out", tmp_path / "staging", "--key-file", key_file,
                    "--site", "RSH", "--format", "json", "--audit", audit, "--workers", "1")
    summary = json.loads(run.stdout)
    assert summary["refused"] == 1 and summary["refused_by_reason"] == {"compression_bomb": 1}
    recorded = json.loads(audit.read_text())
    assert recorded["counts"]["refused"] == 1
    assert [f["code"] for f in recorded["files"] if f["status"] == "refused"] == [
        "compression_bomb"]
    assert "export.zip" not in run.stdout + audit.read_text()


def test_scan_names_the_refused_file_and_counts_the_rest(drop):
    run = run_nccid("scan", drop)
    assert run.returncode == 0, run.stderr
    assert "2 DICOM images" in run.stdout and "1 refused (over a size limit)" in run.stdout
    assert any("export.zip!CT/IM0002" in line and "decompression bomb" in line
               for line in run.stdout.splitlines())
    assert 0 < run.peak_mb < 200, run.peak_mb
