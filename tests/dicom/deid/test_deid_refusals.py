"""Files beyond the size limits, or whose pixel data does not fit their header, are refused
by the de-identifier: never read whole, never copied to staging or quarantine; every other
file of the batch is de-identified as usual."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop.dicom.deid.one_file import deidentify_file
from nccid_desktop.dicom.deid.pipeline import deidentify_batch
from nccid_desktop.dicom.scan.sources import SourceFile, iter_sources
from nccid_desktop.limits import Limits
from tests.dicom import builders
from tests.faults import bombs

GiB = 2**30


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _slice(rows: int = 64, columns: int = 64, instance: int = 1):
    """A CT slice's header saying ``rows`` x ``columns``, without pixel data."""
    ds = builders.ct_slice(instance=instance)
    del ds.PixelData
    ds.Rows, ds.Columns = rows, columns
    return ds


def _with_pixels(ds, pixel_bytes: bytes) -> bytes:
    return bombs.dicom_header(ds) + bombs.pixel_element(len(pixel_bytes)) + pixel_bytes


def test_the_issues_zip_bomb_is_refused_and_the_rest_goes_through(tmp_path, deid_context):
    """A 2 MB zip with 2 GiB of zero pixels: refused unread; staging gets only the others."""
    big = _slice(16384, 16384)
    big.NumberOfFrames = 4
    bombs.write_zip(tmp_path / "drop" / "export.zip", [
        bombs.zero_pixel_image("IM0002", big, 2 * GiB),
        bombs.plain("IM0001", bombs.dicom_header(builders.ct_slice(instance=1)))])
    builders.write(builders.ct_slice(instance=3), tmp_path / "drop" / "IM0003")
    sources = list(iter_sources([tmp_path / "drop"]))
    report = deidentify_batch(sources, tmp_path / "staging", deid_context,
                              quarantine_dir=tmp_path / "quarantine", workers=2)
    assert report.counts["deidentified"] == 2 and report.counts["refused"] == 1
    [(position, refused)] = report.with_positions("refused")
    assert sources[position].member == "IM0002"
    assert refused.code == "compression_bomb" and "decompression bomb" in refused.message
    assert _bytes_under(tmp_path / "staging") < 100_000
    assert not (tmp_path / "quarantine").exists() or _bytes_under(tmp_path / "quarantine") == 0


def test_pixel_data_longer_than_its_header_describes_is_refused(tmp_path, deid_context):
    """64 x 64 x 16 bits is 8 KB; 3 MB of pixel data behind it is not an image."""
    path = tmp_path / "IM1"
    path.write_bytes(_with_pixels(_slice(), bytes(3_000_000)))
    outcome = deidentify_file(SourceFile(path, None, path.stat().st_size), tmp_path / "out",
                              deid_context, quarantine_dir=tmp_path / "quarantine")
    assert (outcome.status, outcome.code) == ("refused", "pixel_data_mismatch")
    assert "3 MB" in outcome.message and "8 KB" in outcome.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "quarantine").exists()


def test_a_little_padding_after_the_pixels_is_accepted(tmp_path, deid_context):
    path = tmp_path / "IM1"
    path.write_bytes(_with_pixels(_slice(), bytes(64 * 64 * 2 + 128)))
    outcome = deidentify_file(SourceFile(path), tmp_path / "out", deid_context)
    assert outcome.status == "deidentified", outcome.message


def test_a_header_describing_a_gigantic_image_is_refused_even_when_compressed(tmp_path,
                                                                             deid_context):
    """A viewer decoding it would allocate what the header says: 65535 x 65535 x 1000."""
    ds = builders.fake_jpeg_baseline(builders.ct_slice(instance=1))
    ds.Rows = ds.Columns = 65535
    ds.NumberOfFrames = 1000
    path = builders.write(ds, tmp_path / "IM1")
    outcome = deidentify_file(SourceFile(path), tmp_path / "out", deid_context)
    assert (outcome.status, outcome.code) == ("refused", "pixels_too_large")
    assert "max_image_size" in outcome.message


def test_a_file_over_the_image_cap_is_refused_before_reading(tmp_path, deid_context):
    path = builders.write(builders.ct_slice(instance=1, rows=256, columns=256), tmp_path / "IM")
    outcome = deidentify_file(SourceFile(path, None, path.stat().st_size), tmp_path / "out",
                              deid_context, limits=Limits(image_bytes=50_000))
    assert (outcome.status, outcome.code) == ("refused", "too_large")
    assert "over the 50 KB limit (max_image_size)" in outcome.message


def test_a_deflated_data_set_bomb_is_refused(tmp_path, deid_context):
    path = tmp_path / "IM1"
    path.write_bytes(bombs.deflated_dicom(_slice(10000, 10000), 200_000_000))
    outcome = deidentify_file(SourceFile(path), tmp_path / "out", deid_context)
    assert (outcome.status, outcome.code) == ("refused", "compression_bomb")


@pytest.mark.parametrize("declared", [1000, 50 * 2**20])
def test_a_member_lying_about_its_size_is_unreadable_not_inflated(tmp_path, deid_context,
                                                                  declared):
    data = bombs.dicom_header(builders.ct_slice(instance=1)) * 40
    archive = bombs.write_zip(tmp_path / "lie.zip", [bombs.plain("IM1", data)],
                              declared_sizes={"IM1": declared})
    (source,) = iter_sources([archive])
    outcome = deidentify_file(source, tmp_path / "out", deid_context)
    assert outcome.status in ("unreadable", "refused")


def test_pixel_bytes_native_without_sizes_are_bounded(tmp_path, deid_context):
    ds = _slice()
    del ds.Rows
    path = tmp_path / "IM1"
    path.write_bytes(_with_pixels(ds, bytes(200_000)))
    outcome = deidentify_file(SourceFile(path), tmp_path / "out", deid_context)
    assert (outcome.status, outcome.code) == ("refused", "pixel_data_mismatch")


@pytest.mark.parametrize("change", [{"method": 99}, {"needed_version": 84}])
def test_zip_headers_zipfile_cannot_handle_make_the_file_unreadable(tmp_path, deid_context,
                                                                    change):
    """NotImplementedError from zipfile escaped the in-process de-identifier."""
    from nccid_desktop.dicom.scan.scanner import scan

    good = bombs.write_zip(tmp_path / "good.zip", [
        bombs.plain("IM1", bombs.dicom_header(builders.ct_slice(instance=1)))])
    odd = tmp_path / "drop" / "odd.zip"
    odd.parent.mkdir()
    odd.write_bytes(bombs.patch_zip_headers(good.read_bytes(), **change))
    builders.write(builders.ct_slice(instance=2), tmp_path / "drop" / "IM2")
    sources = list(iter_sources([tmp_path / "drop"]))
    report = deidentify_batch(sources, tmp_path / "out", deid_context, workers=1)
    assert (report.counts["deidentified"], report.counts["unreadable"]) == (1, 1)
    result = scan([tmp_path / "drop"], workers=1)
    assert result.instance_count == 1 and len(result.skipped) == 1
