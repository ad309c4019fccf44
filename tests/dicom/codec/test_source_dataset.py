"""The dataset built from the walk of a source is the one ``dcmread`` builds, element for element.

Why: the de-identifier edits that dataset and the encoder copies its raw elements into the
output, so any difference (a value, an offset, a VR, a deferred value, the encodings) could
change what is sent. Compared on every file pydicom ships and on our own fixtures.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from nccid_desktop.dicom.codec.part10_writer import encode_part10
from nccid_desktop.dicom.codec.raw_walk import NeedsFullParser, walk_part10
from nccid_desktop.dicom.codec.source_dataset import dataset_from_walk
from nccid_desktop.dicom.deid.one_file import (
    DeidContext,
    _new_file_meta,
    _transfer_syntax,
    deidentify_dataset,
)
from nccid_desktop.dicom.deid.source_read import DEFER_BYTES
from nccid_desktop.keys import SiteKeys
from tests.dicom import builders

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CORPUS = sorted(p.relative_to(TEST_FILES).as_posix() for p in TEST_FILES.rglob("*")
                if p.is_file())
#: Ordinary files that must be built from the walk, not left to dcmread.
MUST_BUILD = {"CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm",
              "rtplan.dcm", "liver_1frame.dcm"}


def _assert_same(built: Dataset, read: Dataset, where: str) -> None:
    assert list(built._dict) == list(read._dict), where
    for tag, ours in built._dict.items():
        theirs: Any = read._dict[tag]
        label = f"{where} ({tag >> 16:04X},{tag & 0xFFFF:04X})"
        assert type(ours) is type(theirs), label
        if isinstance(ours, RawDataElement):
            assert tuple(ours) == tuple(theirs), label
        else:
            assert (ours.VR, ours.is_undefined_length) == (theirs.VR,
                                                           theirs.is_undefined_length), label
            if ours.VR == "SQ":
                assert len(ours.value) == len(theirs.value), label
                for index, (a, b) in enumerate(zip(ours.value, theirs.value, strict=True)):
                    _assert_same(a, b, f"{label}[{index}]")
            else:
                assert ours.value == theirs.value, label
    assert built.original_encoding == read.original_encoding, where
    assert built.original_character_set == read.original_character_set, where


def _compare(data: bytes, name: str) -> bool:
    """Whether the file was built from its walk (and then equals dcmread's dataset)."""
    try:
        built = dataset_from_walk(data, walk_part10(data), DEFER_BYTES)
    except NeedsFullParser:
        return False
    read = dcmread(io.BytesIO(data), defer_size=DEFER_BYTES)
    _assert_same(built, read, name)
    _assert_same(built.file_meta, read.file_meta, f"{name} file meta")
    assert built.preamble == read.preamble
    assert built._character_set == read._character_set
    assert (built.is_implicit_VR, built.is_little_endian) == (read.is_implicit_VR,
                                                              read.is_little_endian)
    return True


@pytest.mark.parametrize("name", CORPUS)
def test_the_built_dataset_is_dcmreads_or_dcmread_reads_it(name: str) -> None:
    built = _compare((TEST_FILES / name).read_bytes(), name)
    assert built or name not in MUST_BUILD, "an ordinary file was left to dcmread"


VARIANTS = ["explicit", "implicit", "undefined-length sequences", "deferred value", "big endian"]


def _fixture(variant: str, tmp_path: Path) -> bytes:
    ds = builders.add_private_tags(builders.add_nested_sequences(builders.ct_slice()))
    if variant == "implicit":
        builders.implicit_little_endian(ds)
    elif variant == "big endian":
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
    elif variant == "undefined-length sequences":
        for keyword in ("ViewCodeSequence", "OtherPatientIDsSequence"):
            ds[keyword].is_undefined_length = True
            for item in ds[keyword].value:
                item.is_undefined_length_sequence_item = True
    elif variant == "deferred value":
        ds.add_new(0x00282000, "OB", bytes(DEFER_BYTES + 2))  # an ICC profile
    return builders.write(ds, tmp_path / "source.dcm").read_bytes()


@pytest.mark.parametrize("variant", VARIANTS)
def test_our_fixtures_are_built_as_dcmread_reads_them(variant: str, tmp_path: Path) -> None:
    assert _compare(_fixture(variant, tmp_path), variant)


def test_the_deferred_pixel_data_reads_back_from_the_source(tmp_path: Path) -> None:
    ds = builders.ct_slice(rows=256, columns=256)
    data = builders.write(ds, tmp_path / "source.dcm").read_bytes()
    built = dataset_from_walk(data, walk_part10(data), DEFER_BYTES)
    assert built._dict[pydicom.tag.BaseTag(0x7FE00010)].value is None
    assert built.PixelData == ds.PixelData


def _output(ds: Dataset, data: bytes, site_keys: SiteKeys) -> bytes:
    syntax = _transfer_syntax(ds)
    deidentify_dataset(ds, DeidContext(keys=site_keys))
    ds.file_meta = _new_file_meta(ds, syntax)
    ds.preamble = bytes(128)
    return encode_part10(ds, data)


@pytest.mark.parametrize("name", sorted(MUST_BUILD - {"rtplan.dcm"}))
def test_the_output_is_the_same_whichever_way_the_source_was_read(
        name: str, site_keys: SiteKeys) -> None:
    data = (TEST_FILES / name).read_bytes()
    built = dataset_from_walk(data, walk_part10(data), DEFER_BYTES)
    read = dcmread(io.BytesIO(data), defer_size=DEFER_BYTES)
    assert _output(built, data, site_keys) == _output(read, data, site_keys)


@pytest.mark.parametrize("variant", VARIANTS)
def test_our_fixtures_give_the_same_output_whichever_way_they_were_read(
        variant: str, tmp_path: Path, site_keys: SiteKeys) -> None:
    data = _fixture(variant, tmp_path)
    built = dataset_from_walk(data, walk_part10(data), DEFER_BYTES)
    read = dcmread(io.BytesIO(data), defer_size=DEFER_BYTES)
    assert _output(built, data, site_keys) == _output(read, data, site_keys)
