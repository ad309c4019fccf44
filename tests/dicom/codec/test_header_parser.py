"""The fast header path must read exactly what pydicom reads, or step aside for it."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from nccid_desktop.dicom.codec.header_parser import read_fast
from nccid_desktop.dicom.scan import headers as scan_headers
from nccid_desktop.dicom.scan.headers import FileHeader, read_header
from nccid_desktop.dicom.scan.sources import SourceFile, iter_sources
from tests.dicom._scan_builders import dicom_bytes, make_dataset

WANTED = {int(tag): keyword for keyword, tag in scan_headers._TAGS.items()}
DECODED = scan_headers._DECODED


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records whether each fast-path attempt succeeded (True) or stepped aside (False)."""
    calls: list[bool] = []

    def recording(*args: object, **kwargs: object):
        result = read_fast(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(result is not None)
        return result

    monkeypatch.setattr(scan_headers, "read_fast", recording)
    return calls


def _both(path: Path) -> tuple[object, object]:
    source = SourceFile(path, None, path.stat().st_size)
    return read_header(source), read_header(source, fast=False)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_same_values_as_pydicom_for_every_pydicom_test_file(fast_calls: list[bool]) -> None:
    folder = Path(get_testdata_file("CT_small.dcm")).parent
    compared = 0
    for source in iter_sources([folder]):
        fast, slow = read_header(source), read_header(source, fast=False)
        assert fast == slow, source.path.name
        compared += isinstance(fast, FileHeader)
    assert compared > 100
    assert fast_calls.count(True) > 100  # the fast path did the work, not the fallback


def _nested(depth: int) -> Dataset:
    item = Dataset()
    item.is_undefined_length_sequence_item = True
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    if depth > 1:
        item.ReferencedImageSequence = [_nested(depth - 1), _nested(depth - 1)]
        item["ReferencedImageSequence"].is_undefined_length = True
    return item


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian])
def test_undefined_length_sequences_three_deep_are_skipped(
        tmp_path: Path, fast_calls: list[bool], syntax: str | None) -> None:
    ds = make_dataset(ReferencedImageSequence=[_nested(3)], SourceImageSequence=[_nested(2)])
    ds["ReferencedImageSequence"].is_undefined_length = True
    data = dicom_bytes(ds)
    if syntax is not None:
        ds.file_meta.TransferSyntaxUID = syntax
        buffer = io.BytesIO()
        pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
        data = buffer.getvalue()
    assert b"\xfe\xff\xdd\xe0" in data  # really written with undefined lengths
    fast, slow = _both(_write(tmp_path, "nested", data))
    assert fast == slow and isinstance(fast, FileHeader)
    assert fast.get("BodyPartExamined") == "CHEST"
    assert fast_calls == [True]


def test_long_private_header_needs_a_second_read(tmp_path: Path, fast_calls: list[bool]) -> None:
    ds = make_dataset()
    ds.add_new((0x0019, 0x0010), "LO", "VENDOR")
    ds.add_new((0x0019, 0x1001), "OB", bytes(40_000))
    fast, slow = _both(_write(tmp_path, "long", dicom_bytes(ds)))
    assert fast == slow and fast.get("SeriesDescription") == "CHEST PA"
    assert fast_calls == [False, True]


def test_very_long_header_falls_back_to_pydicom(tmp_path: Path, fast_calls: list[bool]) -> None:
    ds = make_dataset()
    ds.add_new((0x0019, 0x0010), "LO", "VENDOR")
    ds.add_new((0x0019, 0x1001), "OB", bytes(300_000))
    fast, slow = _both(_write(tmp_path, "huge", dicom_bytes(ds)))
    assert fast == slow and fast.get("Modality") == "CR"
    assert fast_calls == [False, False]


@pytest.mark.parametrize(("charset", "name", "fast_used"), [
    ("ISO_IR 192", "Øster^Åsa", True),
    ("ISO_IR 100", "Müller^Jürgen", True),
    ("\\ISO 2022 IR 87", "Yamada^Tarou=山田^太郎", False),
])
def test_character_sets(tmp_path: Path, fast_calls: list[bool], charset: str, name: str,
                        fast_used: bool) -> None:
    ds = make_dataset(patient_name=name, SpecificCharacterSet=charset,
                      SeriesDescription="Thorax ä")
    fast, slow = _both(_write(tmp_path, "named", dicom_bytes(ds)))
    assert fast == slow
    assert fast.get("PatientName") == name
    assert fast_calls == [fast_used]


def test_big_endian_steps_aside(tmp_path: Path, fast_calls: list[bool]) -> None:
    ds = make_dataset(pixels=False)
    dicom_bytes(ds)
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    fast, slow = _both(_write(tmp_path, "big", buffer.getvalue()))
    assert fast == slow and fast.get("PatientID") == "RR0001"
    assert fast_calls == [False]


@pytest.mark.parametrize("cut", [140, 200, 400, 700])
def test_truncated_headers_never_raise(tmp_path: Path, cut: int) -> None:
    data = dicom_bytes(make_dataset())[:cut]
    fast, slow = _both(_write(tmp_path, f"cut{cut}", data))
    assert fast == slow


def test_read_fast_is_unsure_of_a_prefix_that_ends_between_elements() -> None:
    data = dicom_bytes(make_dataset(pixels=False))
    end_of_meta = data.index(b"\x08\x00\x05\x00")
    assert read_fast(data[:end_of_meta], WANTED, DECODED, complete=False) is None
    values, meta = read_fast(data, WANTED, DECODED, complete=True)
    assert values["PatientID"] == "RR0001"
    assert meta[0x00020010] == "1.2.840.10008.1.2.1"


def test_undefined_length_un_holds_implicit_vr(tmp_path: Path, fast_calls: list[bool]) -> None:
    """A private sequence stored as UN with undefined length is implicit VR inside."""
    data = dicom_bytes(make_dataset())
    at = data.index(b"\x10\x00\x10\x00PN")
    creator = b"\x09\x00\x10\x00LO\x08\x00VENDOR  "
    inner = b"\x09\x00\x02\x10" + b"\x02\x00\x00\x00" + b"AB"
    unknown = (b"\x09\x00\x01\x10UN\x00\x00\xff\xff\xff\xff"
               + b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + inner + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
               + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
    fast, slow = _both(_write(tmp_path, "un", data[:at] + creator + unknown + data[at:]))
    assert fast == slow and fast.get("PatientName") == "DOE^JOHN"
    assert fast_calls == [True]
