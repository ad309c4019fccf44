"""The byte walker reads what pydicom reads, or says that pydicom must read the file.

Why against pydicom: the verifier trusts the walk to show it every element at every depth;
pydicom's parser is the reference it replaces on the common files, so on every file pydicom
ships (vendors, transfer syntaxes, oddities) the walk must give the same tags, values and
items, or refuse the file.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian

from nccid_desktop.dicom.codec.raw_walk import UNDEFINED, Element, NeedsFullParser, walk_part10
from tests.dicom import builders

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CORPUS = sorted(p.relative_to(TEST_FILES).as_posix() for p in TEST_FILES.rglob("*")
                if p.is_file())
#: Ordinary files the walker must read itself (not hand to pydicom).
MUST_WALK = {"CT_small.dcm", "MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm",
             "693_J2KI.dcm", "JPEG2000.dcm", "examples_overlay.dcm", "liver_1frame.dcm",
             "SC_rgb_rle.dcm", "rtplan.dcm"}


def _assert_same(elements: list[Element], ds: Dataset, data: bytes, where: str) -> None:
    walked = {tag: (vr, start, length, items) for tag, vr, start, length, items in elements}
    assert sorted(walked) == sorted(int(t) for t in ds._dict), where
    for tag, (vr, start, length, items) in walked.items():
        elem = ds._dict[pydicom.tag.BaseTag(tag)]
        if items is not None:
            value = ds[tag].value
            assert len(items) == len(value), (where, hex(tag))
            for index, (item, parsed) in enumerate(zip(items, value, strict=True)):
                _assert_same(item, parsed, data, f"{where} {tag:08X}[{index}]")
        elif length == UNDEFINED:
            assert tag == 0x7FE00010 and elem.length == UNDEFINED, (where, hex(tag))
        elif isinstance(elem, RawDataElement) and elem.value is not None:
            assert data[start:start + length] == bytes(elem.value), (where, hex(tag))
            assert elem.VR is None or vr == elem.VR, (where, hex(tag))


@pytest.mark.parametrize("name", CORPUS)
def test_the_walk_agrees_with_pydicom_or_refuses(name: str) -> None:
    data = (TEST_FILES / name).read_bytes()
    try:
        walked = walk_part10(data)
    except NeedsFullParser:
        assert name not in MUST_WALK, "an ordinary file was left to pydicom"
        return
    ds = dcmread(TEST_FILES / name)
    _assert_same(walked.dataset, ds, data, "dataset")
    _assert_same(walked.meta, ds.file_meta, data, "file meta")
    if "PixelData" in ds and walked.pixel_span is not None:
        start, end = walked.pixel_span
        assert data[start:end] == ds.PixelData


def test_the_must_walk_files_are_bundled() -> None:
    assert {Path(n).name for n in CORPUS} >= MUST_WALK


def test_nested_sequences_of_undefined_length_are_walked(tmp_path: Path) -> None:
    ds = builders.implicit_little_endian(builders.add_nested_sequences(builders.ct_slice()))
    for keyword in ("ViewCodeSequence", "RequestAttributesSequence"):
        ds[keyword].is_undefined_length = True
        for item in ds[keyword].value:
            item.is_undefined_length_sequence_item = True
    path = builders.write(ds, tmp_path / "undefined.dcm")
    data = path.read_bytes()
    _assert_same(walk_part10(data).dataset, dcmread(path), data, "dataset")


@pytest.mark.parametrize("damage", ["cut short", "no preamble", "deflated", "bad VR"])
def test_what_the_walk_cannot_read_faithfully_is_left_to_pydicom(damage: str,
                                                                 tmp_path: Path) -> None:
    ds = builders.add_nested_sequences(builders.ct_slice())
    data = builders.write(ds, tmp_path / "ok.dcm").read_bytes()
    walk_part10(data)  # the undamaged file is walked
    if damage == "cut short":
        data = data[:len(data) // 2]
    elif damage == "no preamble":
        data = data[132:]
    elif damage == "bad VR":
        at = data.index(b"\x08\x00\x60\x00CS")  # Modality
        data = data[:at + 4] + b"Q!" + data[at + 6:]
    else:
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        data = builders.write(ds, tmp_path / "deflated.dcm").read_bytes()
    with pytest.raises(NeedsFullParser):
        walk_part10(data)
