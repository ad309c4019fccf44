"""The raw-bytes de-identifier writes exactly what the pydicom path writes, or steps aside.

The pydicom path (``deidentify._prepare`` then ``part10.encode_part10``) is the oracle: for
every file pydicom bundles, our synthetic studies, the answer-key fixtures and the
benchmark's kind of CT slice, both paths run on the same bytes and must give the same
output bytes, pseudonym, new UID and source identity, or the same refusal (code and
message). The raw path may decline a file (``NeedsFullParser``), never differ; and it must
take the files that matter (plain CT and X-ray slices, implicit VR, nested sequences,
compressed pixel data), or it would be a fast path nothing uses.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from nccid_desktop.dicom.codec.part10_writer import encode_part10
from nccid_desktop.dicom.codec.raw_walk import NeedsFullParser, walk_part10
from nccid_desktop.dicom.deid import byte_editor as deid_raw
from nccid_desktop.dicom.deid.one_file import DeidContext, Quarantined, _prepare, deidentify_file
from nccid_desktop.dicom.deid.source_read import SourceUnreadable
from nccid_desktop.keys import SiteKeys
from tests.dicom import builders
from tests.dicom.deid import annex_e_key

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
CORPUS = sorted(p.relative_to(TEST_FILES).as_posix() for p in TEST_FILES.rglob("*") if p.is_file())
KEYS = SiteKeys(site="RSH", secret=bytes(range(32)), controller_public_key=b"")
CTX = DeidContext(keys=KEYS)
DECLINED = "declined"


def _reference(data: bytes, ctx: DeidContext) -> tuple[object, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds, identity, pseudonym, new_uid = _prepare(data, ctx)
        except (Quarantined, SourceUnreadable) as refusal:
            return ("refused", refusal.code, refusal.message)
        except Exception as exc:
            return ("failed", type(exc).__name__)
        try:
            output = encode_part10(ds, data)
        except Exception as exc:
            return ("failed", type(exc).__name__)
    return ("output", output, pseudonym, new_uid, identity)


def _raw(data: bytes, ctx: DeidContext) -> tuple[object, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the raw path must not lean on pydicom's warnings
        try:
            result = deid_raw.deidentify_raw(data, walk_part10(data), ctx)
        except NeedsFullParser:
            return (DECLINED,)
        except Quarantined as refusal:
            return ("refused", refusal.code, refusal.message)
    return ("output", result.output, result.pseudonym, result.new_uid, result.identity)


def _compare(data: bytes, ctx: DeidContext = CTX) -> str:
    """Both paths on ``data``; the raw result equals the reference unless it declined."""
    raw = _raw(data, ctx)
    if raw[0] == DECLINED:
        return DECLINED
    reference = _reference(data, ctx)
    assert raw[0] == reference[0], (raw[:1], reference[:3])
    if raw[0] == "output":
        assert raw[1] == reference[1], _first_difference(raw[1], reference[1])
    assert raw[2:] == reference[2:]
    return str(raw[0])


def _first_difference(ours: object, reference: object) -> str:
    assert isinstance(ours, bytes) and isinstance(reference, bytes)
    at = next((i for i, (a, b) in enumerate(zip(ours, reference, strict=False)) if a != b),
              min(len(ours), len(reference)))
    return (f"differs at byte {at} (lengths {len(ours)} / {len(reference)}): "
            f"{ours[at - 16:at + 16]!r} / {reference[at - 16:at + 16]!r}")


@pytest.mark.parametrize("name", CORPUS)
def test_bundled_file_gives_the_pydicom_paths_bytes_or_is_declined(name: str) -> None:
    _compare((TEST_FILES / name).read_bytes())


#: Bundled files the raw path must take (not decline): explicit and implicit VR, CT, CR,
#: MR, JPEG 2000 and RLE, nested sequences.
MUST_TAKE = {"CT_small.dcm": "output", "MR_small.dcm": "output",
             "MR_small_implicit.dcm": "output", "693_J2KI.dcm": "output",
             "MR_small_RLE.dcm": "output", "dicomdirtests/77654033/CR1/6154": "output",
             "liver_1frame.dcm": "output"}


@pytest.mark.parametrize("name", sorted(MUST_TAKE))
def test_the_common_bundled_files_take_the_raw_path(name: str) -> None:
    assert _compare((TEST_FILES / name).read_bytes()) == MUST_TAKE[name]


def test_most_of_the_bundled_corpus_takes_the_raw_path() -> None:
    taken = sum(_raw((TEST_FILES / n).read_bytes(), CTX)[0] != DECLINED for n in CORPUS)
    assert taken >= len(CORPUS) // 2, f"only {taken} of {len(CORPUS)} files"


def _with_charset(charset: str, name: str) -> Dataset:
    ds = builders.add_nested_sequences(builders.ct_slice())
    ds.SpecificCharacterSet = charset
    ds.PatientName = name
    ds.StudyDescription = "CT CHEST " + name.split("^")[0]
    ds.SeriesDescription = "AXIAL Æ 1mm" if charset != "ISO_IR 6" else "AXIAL 1mm"
    return ds


def _undefined_lengths(ds: Dataset) -> Dataset:
    for elem in ds.iterall():
        if elem.VR == "SQ":
            elem.is_undefined_length = True
            for item in elem.value:
                item.is_undefined_length_sequence_item = True
    return ds


def _descriptions(ds: Dataset) -> Dataset:
    ds.StudyDescription = "CT THORAX  \\CHEST "
    ds.SeriesDescription = ""
    ds.ProtocolName = "Chest for " + builders.PATIENT.name.split("^")[0]
    ds.PatientAge = ""
    ds.PatientBirthDate = "19500612"
    return ds


def _dummy_sequence(ds: Dataset) -> Dataset:
    item = Dataset()
    item.CodeValue = "1234"
    item.CodeMeaning = "Dr Who"
    item.CodingSchemeDesignator = "L"
    item.add(DataElement(0x00080106, "DT", "20200101"))  # shifted date inside
    ds.PersonIdentificationCodeSequence = Sequence([item])
    ds.add(DataElement(0x00181000, "LO", "SN123"))  # device serial: kept
    ds.add(DataElement(0x00080012, "DA", "20200102\\20200103"))
    ds.add(DataElement(0x0018700C, "DA", "not a date", validation_mode=config.IGNORE))
    return ds


def _quarantined_cases() -> dict[str, Dataset]:
    no_id = builders.ct_slice()
    del no_id.PatientID
    burned = builders.ct_slice()
    burned.BurnedInAnnotation = "YES"
    no_uid = builders.ct_slice()
    no_uid.SOPInstanceUID = ""
    return {"no patient id": no_id, "burned in": burned, "no sop instance uid": no_uid,
            "secondary capture": builders.secondary_capture()}


SYNTHETIC = {
    "ct with nested sequences, private tags, overlay and curve": lambda: builders.add_curve(
        builders.add_overlay(builders.add_private_tags(builders.add_nested_sequences(
            builders.ct_slice(rows=128, columns=128))))),
    "ct 512 as the benchmark makes it": lambda: builders.add_private_tags(
        builders.add_nested_sequences(builders.ct_slice(rows=512, columns=512))),
    "dx": lambda: builders.add_nested_sequences(builders.dx_image()),
    "rle cr": lambda: builders.compress_rle(builders.cr_image()),
    "jpeg baseline": lambda: builders.fake_jpeg_baseline(builders.cr_image()),
    "implicit little endian": lambda: builders.add_private_tags(
        builders.implicit_little_endian(builders.add_nested_sequences(builders.ct_slice()))),
    "odd-length 8-bit pixels": lambda: builders.add_pixels(builders.dx_image(), 3, 3, bits=8),
    "latin-1": lambda: _with_charset("ISO_IR 100", "MÜLLER^JÖRG"),
    "utf-8": lambda: _with_charset("ISO_IR 192", "ŁUKASZ^ŻÓŁW"),
    "undefined-length sequences and items": lambda: _undefined_lengths(
        builders.add_nested_sequences(builders.ct_slice())),
    "descriptions, blank age": lambda: _descriptions(builders.ct_slice()),
    "dummy scope and odd dates": lambda: _dummy_sequence(builders.ct_slice()),
    **{f"quarantined: {k}": (lambda v=v: v) for k, v in _quarantined_cases().items()},
}
#: What each synthetic case must give on the raw path (never "declined" for these).
EXPECTED = {k: ("refused" if k.startswith("quarantined") else "output") for k in SYNTHETIC}


@pytest.mark.parametrize("case", sorted(SYNTHETIC))
def test_synthetic_study_gives_the_pydicom_paths_bytes(case: str, tmp_path: Path) -> None:
    data = builders.write(SYNTHETIC[case](), tmp_path / "source").read_bytes()
    assert _compare(data) == EXPECTED[case]


@pytest.mark.parametrize("other_instance", [False, True])
def test_answer_key_fixture_gives_the_pydicom_paths_bytes(other_instance: bool,
                                                          tmp_path: Path) -> None:
    ds = annex_e_key.answer_key_dataset(annex_e_key.expectations(),
                                        other_instance=other_instance)
    data = builders.write(ds, tmp_path / "source").read_bytes()
    assert _compare(data) == "output"


def test_nhs_linking_gives_the_same_pseudonym_both_ways(tmp_path: Path) -> None:
    ds = builders.ct_slice()
    ds.PatientID = "9434765919"
    data = builders.write(ds, tmp_path / "source").read_bytes()
    assert _compare(data, DeidContext(keys=KEYS, linking="nhs")) == "output"


def test_deidentify_file_stages_the_raw_paths_verified_bytes(tmp_path: Path) -> None:
    source = builders.write(builders.add_nested_sequences(builders.ct_slice()),
                            tmp_path / "source")
    data = source.read_bytes()
    expected = deid_raw.deidentify_raw(data, walk_part10(data), CTX)
    outcome = deidentify_file(source, tmp_path / "out", CTX)
    assert outcome.status == "deidentified"
    assert outcome.output is not None and outcome.output.read_bytes() == expected.output
    assert outcome.sop_instance_uid == expected.new_uid


def test_a_raw_path_bug_falls_back_to_the_pydicom_path(tmp_path: Path, monkeypatch) -> None:
    source = builders.write(builders.ct_slice(), tmp_path / "source")
    reference = deidentify_file(source, tmp_path / "a", CTX)

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(deid_raw, "deidentify_raw", broken)
    fallback = deidentify_file(source, tmp_path / "b", CTX)
    assert fallback.status == reference.status == "deidentified"
    assert fallback.output is not None and reference.output is not None
    assert fallback.output.read_bytes() == reference.output.read_bytes()
