"""Files beyond the size limits are refused by the scan with a reason; the rest of the drop
is scanned as usual, and nothing big is inflated on the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop.dicom.scan.scanner import scan
from nccid_desktop.limits import Limits
from tests.dicom import builders
from tests.faults import bombs

GiB = 2**30


def _slice_without_pixels(rows: int, columns: int, frames: int = 1, instance: int = 9):
    ds = builders.ct_slice(instance=instance)
    del ds.PixelData
    ds.Rows, ds.Columns = rows, columns
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """The issue's drop: a 2 MB zip holding a CT slice and a DICOM file with 2 GiB of zero
    pixels (16384 x 16384 x 4 frames, 16 bits: its header agrees), beside an ordinary file."""
    root = tmp_path / "drop"
    good = bombs.dicom_header(builders.ct_slice(instance=1))
    bombs.write_zip(root / "export.zip", [
        bombs.plain("CT/IM0001", good),
        bombs.zero_pixel_image("CT/IM0002", _slice_without_pixels(16384, 16384, 4), 2 * GiB)])
    builders.write(builders.ct_slice(instance=3), root / "CT" / "IM0003")
    assert (root / "export.zip").stat().st_size < 3_000_000
    return root


def test_a_zip_bomb_member_is_refused_and_the_rest_scanned(drop):
    result = scan([drop], workers=1)
    assert result.instance_count == 2
    assert result.skipped_counts()["refused"] == 1
    (refused,) = result.skipped
    assert refused.source.member == "CT/IM0002"
    assert "decompression bomb" in refused.reason and "max_compression_ratio" in refused.reason
    assert "2.1 GB" in refused.reason


def test_a_member_over_the_image_cap_is_refused_even_when_it_packs_modestly(tmp_path):
    data = bombs.dicom_header(builders.ct_slice(instance=1, rows=256, columns=256))
    bombs.write_zip(tmp_path / "a.zip", [bombs.stored("IM1", data)])
    result = scan([tmp_path / "a.zip"], workers=1, limits=Limits(image_bytes=100_000))
    (refused,) = result.skipped
    assert refused.kind == "refused"
    assert "over the 100 KB limit (max_image_size)" in refused.reason


def test_a_file_on_disk_over_the_image_cap_is_refused(tmp_path):
    builders.write(builders.ct_slice(instance=1, rows=256, columns=256), tmp_path / "big")
    builders.write(builders.ct_slice(instance=2), tmp_path / "small")
    result = scan([tmp_path], workers=1, limits=Limits(image_bytes=50_000))
    assert result.instance_count == 1
    assert [s.kind for s in result.skipped] == ["refused"]


def test_a_deflated_data_set_is_counted_before_pydicom_inflates_it(tmp_path):
    """pydicom inflates a deflated data set whole; 200 MB from 200 KB is refused first."""
    (tmp_path / "deflated.dcm").write_bytes(
        bombs.deflated_dicom(_slice_without_pixels(10000, 10000), 200_000_000))
    small = _slice_without_pixels(512, 512, instance=4)
    (tmp_path / "ok.dcm").write_bytes(bombs.deflated_dicom(small, 512 * 512 * 2))
    result = scan([tmp_path], workers=1)
    assert result.instance_count == 1
    (refused,) = result.skipped
    assert refused.source.path.name == "deflated.dcm" and "decompression bomb" in refused.reason


def test_the_machine_policy_sets_the_scans_limits(tmp_path, monkeypatch):
    builders.write(builders.ct_slice(instance=1, rows=256, columns=256), tmp_path / "big")
    policy = tmp_path / "policy.toml"
    policy.write_text('max_image_size = "50 KB"\n', encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    result = scan([tmp_path / "big"], workers=1)
    assert [s.kind for s in result.skipped] == ["refused"]
