"""The fast Part 10 encoder writes exactly the bytes pydicom's ``dcmwrite`` writes.

pydicom's writer is the oracle: every file pydicom bundles (vendors, transfer syntaxes,
character sets, oddities) and our synthetic studies are encoded both ways, as read and after
de-identification, and the bytes must be identical, or both writers must refuse.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from nccid_desktop.dicom.codec.part10_writer import _complete_meta_bytes, _completed_meta_bytes, encode_part10
from nccid_desktop.dicom.deid.one_file import (
    DeidContext,
    Quarantined,
    _new_file_meta,
    _transfer_syntax,
    deidentify_dataset,
)
from nccid_desktop.keys import SiteKeys
from tests.dicom import builders

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CORPUS = sorted(p.relative_to(TEST_FILES).as_posix() for p in TEST_FILES.rglob("*") if p.is_file())
DEFER = 4096


def _read(data: bytes, defer: bool) -> Dataset | None:
    try:
        ds = dcmread(io.BytesIO(data), defer_size=DEFER if defer else None)
    except Exception:
        return None
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        return None
    ds.preamble = bytes(128)
    return ds


REFUSED = "refused"


def _pydicom(ds: Dataset) -> bytes | str:
    buffer = io.BytesIO()
    try:
        ds.save_as(buffer, enforce_file_format=True)
    except Exception:
        return REFUSED
    return buffer.getvalue()


def _ours(ds: Dataset, source: bytes) -> bytes | str:
    try:
        return encode_part10(ds, source)
    except Exception:
        return REFUSED


def _both_ways(data: bytes, change=None, *, defer: bool) -> tuple[object, object] | None:
    """(dcmwrite's bytes, ours) for two reads of ``data`` changed the same way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference, ours = _read(data, defer), _read(data, defer)
        if reference is None or ours is None:
            return None
        if change is not None:
            try:
                change(reference)
            except Quarantined:
                return None
            change(ours)
        return _pydicom(reference), _ours(ours, data)


def _deidentify(ds: Dataset) -> None:
    keys = SiteKeys(site="RSH", secret=bytes(range(32)), controller_public_key=b"")
    deidentify_dataset(ds, DeidContext(keys=keys))


def _deidentify_with_new_meta(ds: Dataset) -> None:
    """As staged: de-identified, with the new file meta the encoder writes directly."""
    syntax = _transfer_syntax(ds)
    _deidentify(ds)
    ds.file_meta = _new_file_meta(ds, syntax)


CHANGES = {"deidentified": _deidentify, "deidentified, new file meta": _deidentify_with_new_meta}
WAYS = [(change, defer) for change in (None, *CHANGES) for defer in (False, True)]


@pytest.mark.parametrize("name", CORPUS)
def test_bundled_file_encodes_exactly_as_pydicom_writes_it(name: str) -> None:
    data = (TEST_FILES / name).read_bytes()
    for change, defer in WAYS:
        pair = _both_ways(data, change and CHANGES[change], defer=defer)
        if pair is not None:
            reference, ours = pair
            assert ours == reference, f"differs from dcmwrite ({change}, deferred: {defer})"


SYNTHETIC = {
    "ct with nested sequences, private tags, overlay and curve": lambda: builders.add_curve(
        builders.add_overlay(builders.add_private_tags(builders.add_nested_sequences(
            builders.ct_slice(rows=128, columns=128))))),
    "rle cr": lambda: builders.compress_rle(builders.cr_image()),
    "jpeg baseline": lambda: builders.fake_jpeg_baseline(builders.cr_image()),
    "implicit little endian": lambda: builders.add_private_tags(
        builders.implicit_little_endian(builders.ct_slice())),
    "odd-length 8-bit pixels": lambda: builders.add_pixels(builders.dx_image(), 3, 3, bits=8),
}


@pytest.mark.parametrize("case", sorted(SYNTHETIC))
def test_synthetic_study_encodes_exactly_as_pydicom_writes_it(case: str, tmp_path) -> None:
    data = builders.write(SYNTHETIC[case](), tmp_path / "source").read_bytes()
    for change, defer in WAYS:
        pair = _both_ways(data, change and CHANGES[change], defer=defer)
        assert pair is not None
        reference, ours = pair
        assert isinstance(ours, bytes) and ours == reference


def test_deferred_pixel_data_is_copied_from_the_source_bytes(tmp_path) -> None:
    data = builders.write(builders.ct_slice(rows=256, columns=256), tmp_path / "a").read_bytes()
    ds = _read(data, defer=True)
    assert ds is not None and ds.get_item(0x7FE00010, keep_deferred=True).value is None
    out = encode_part10(ds, data)
    assert ds.get_item(0x7FE00010, keep_deferred=True).value is None  # never read into memory
    assert dcmread(io.BytesIO(out)).PixelData == dcmread(io.BytesIO(data)).PixelData


def test_a_dataset_pydicom_refuses_is_refused_the_same_way() -> None:
    ds = builders.fake_jpeg_baseline(builders.cr_image())
    ds.PixelData = b"\x00\x01" * 8  # compressed syntax, pixels not encapsulated
    with pytest.raises(ValueError):
        ds.save_as(io.BytesIO(), enforce_file_format=True)
    with pytest.raises(ValueError):
        encode_part10(ds)


def test_a_new_file_meta_is_written_directly_and_as_pydicom_completes_it(tmp_path) -> None:
    data = builders.write(builders.add_nested_sequences(builders.ct_slice()),
                          tmp_path / "a").read_bytes()
    ds = _read(data, defer=True)
    assert ds is not None
    _deidentify_with_new_meta(ds)
    direct = _complete_meta_bytes(ds, ds.file_meta)
    assert direct is not None, "a new file meta should need no completing"
    assert direct == _completed_meta_bytes(ds, ds.file_meta)
    ds.file_meta.ImplementationVersionName = "OTHER"
    ds.SOPInstanceUID = "1.2.3.4"  # no longer the meta's: pydicom's completion decides
    assert _complete_meta_bytes(ds, ds.file_meta) is None
