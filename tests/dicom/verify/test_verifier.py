"""The verifier on its own: a hand-made safe output passes; each kind of leak is caught.

These tests do not use the de-identifier: the "output" is built here by hand, then one leak
at a time is planted in it, so the verifier is proven independently of the code it checks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmwrite
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from nccid_desktop.dicom.codec.raw_walk import NeedsFullParser
from nccid_desktop.dicom.verify.match import matcher_for
from nccid_desktop.dicom.verify.verifier import SourceIdentity, check_parsed, check_walked, verify_output
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import remap_uid
from tests.dicom import builders

PATIENT = builders.PATIENT


def _source() -> Dataset:
    ds = builders.ct_slice()
    builders.add_nested_sequences(ds)
    builders.add_private_tags(ds)
    return ds


def _safe_output(source: Dataset, keys: SiteKeys, pseudonym: str) -> Dataset:
    """What a correct de-identifier could write for ``source`` (built by hand)."""
    out = builders.ct_slice()
    for keyword in ("AccessionNumber", "InstitutionName", "InstitutionAddress",
                    "ReferringPhysicianName", "InstitutionalDepartmentName",
                    "PerformingPhysicianName", "OperatorsName", "IssuerOfPatientID",
                    "OtherPatientIDs", "PatientAddress", "PatientTelephoneNumbers", "StudyID"):
        del out[keyword]
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID",
                    "FrameOfReferenceUID"):
        setattr(out, keyword, remap_uid(keys, source[keyword].value))
    out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    out.file_meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    out.PatientID = out.PatientName = pseudonym
    out.PatientBirthDate = PATIENT.birth_date[:4] + "0101"
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = ["NCCID Desktop PS3.15 Basic Profile",
                                  "Retain Patient Characteristics"]
    out.DeidentificationMethodCodeSequence = Sequence(
        [builders.code_item("113108", "Retain Patient Characteristics Option", "DCM")])
    keywords, innermost = builders.nested_chain(3)
    innermost.ReferencedSOPInstanceUID = remap_uid(keys, builders.uid(1, 1, 998))
    builders.attach_chain(out, keywords, innermost)
    return out


@pytest.fixture
def identity() -> SourceIdentity:
    return SourceIdentity.from_dataset(_source())


@pytest.fixture
def make_output(tmp_path: Path, site_keys: SiteKeys, pseudonym: str
                ) -> Callable[[Callable[[Dataset], object] | None], Path]:
    def build(change: Callable[[Dataset], object] | None = None) -> Path:
        out = _safe_output(_source(), site_keys, pseudonym)
        if change is not None:
            change(out)
        path = tmp_path / "out" / f"{out.SOPInstanceUID}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        out.preamble = b"\0" * 128
        dcmwrite(path, out)  # as given: save_as would re-derive the file meta
        return path
    return build


def _innermost(ds: Dataset) -> Dataset:
    return ds.ViewCodeSequence[0].ViewModifierCodeSequence[0].AnatomicRegionSequence[0]


def _assert_no_identifier_in(problems: list[str], identity: SourceIdentity) -> None:
    text = " ".join(problems).upper()
    for needle in identity.strings | identity.words:
        assert needle not in text, "a problem message repeats an identifying value"


def test_source_identity_collects_names_ids_and_uids_at_every_depth(
        identity: SourceIdentity) -> None:
    assert "FAKENHAM^JOSEPHINE^ANNE" in identity.strings
    assert "FAKENHAM JOSEPHINE ANNE" in identity.strings
    assert {"FAKENHAM", "JOSEPHINE", "ANNE", "WHITTLESEA", "GERALD", "PLUMSTEAD"} <= identity.words
    assert {PATIENT.hospital_number, PATIENT.accession, PATIENT.birth_date,
            PATIENT.other_id, PATIENT.address.upper(), PATIENT.institution.upper(),
            "RP-20934"} <= identity.strings
    assert builders.uid(1, 1, 998) in identity.uids  # three sequences down
    assert builders.uid(1, 1, 1) in identity.uids
    assert builders.CT_IMAGE not in identity.uids
    assert builders.uid(0, 1) not in identity.uids  # implementation class: software, not patient


def test_a_birth_date_on_the_first_of_january_is_not_searched() -> None:
    ds = builders.ct_slice()
    ds.PatientBirthDate = "19630101"  # equals its year-reduced form, which the profile keeps
    assert "19630101" not in SourceIdentity.from_dataset(ds).strings


def test_a_safe_output_passes(make_output, identity: SourceIdentity, pseudonym: str) -> None:
    assert verify_output(make_output(), identity, pseudonym) == []


LEAKS: dict[str, tuple[Callable[[Dataset], object], str]] = {
    "surname in a kept descriptor": (
        lambda ds: setattr(ds, "SeriesDescription", "chest fakenham"), "SeriesDescription"),
    "hospital number three sequences down": (
        lambda ds: setattr(_innermost(ds), "CodeMeaning", f"id {PATIENT.hospital_number}"),
        "AnatomicRegionSequence item 1 > CodeMeaning"),
    "full birth date in a comment": (
        lambda ds: setattr(ds, "ImageComments", "dob 19630412"), "ImageComments"),
    "institution kept": (
        lambda ds: setattr(ds, "InstitutionName", PATIENT.institution), "InstitutionName"),
    "private tag three sequences down": (
        lambda ds: _innermost(ds).add_new(0x00111010, "LO", "x"), "Private tag"),
    "private creator at the top": (
        lambda ds: ds.private_block(0x0029, "ACME", create=True), "Private tag (0029,0010)"),
    "overlay group": (lambda ds: builders.add_overlay(ds, 0x6002), "Overlay or curve"),
    "curve group": (lambda ds: builders.add_curve(ds), "Overlay or curve"),
    "attribute the profile removes": (
        lambda ds: setattr(ds, "OtherPatientIDs", "NOTHING-HERE"), "should have been removed"),
    "source UID three sequences down": (
        lambda ds: setattr(_innermost(ds), "ReferencedSOPInstanceUID", builders.uid(1, 1, 998)),
        "still holds a UID of the source"),
    "source UID in the file meta": (
        lambda ds: setattr(ds.file_meta, "MediaStorageSOPInstanceUID", builders.uid(1, 1, 1)),
        "file meta > MediaStorageSOPInstanceUID"),
    "patient ID not the pseudonym": (
        lambda ds: setattr(ds, "PatientID", "Covid0000000000000000"), "PatientID is not"),
    "patient name not the pseudonym": (
        lambda ds: setattr(ds, "PatientName", "ANONYMOUS"), "PatientName is not"),
    "identity removed flag missing": (
        lambda ds: delattr(ds, "PatientIdentityRemoved"), "PatientIdentityRemoved"),
    "name in unknown-VR bytes": (
        lambda ds: ds.add_new(0x00180010 + 0x10000000, "UN", b"JOSEPHINE "), "contains"),
}


@pytest.mark.parametrize("case", sorted(LEAKS))
def test_each_leak_is_found_and_named_without_its_value(
        case: str, make_output, identity: SourceIdentity, pseudonym: str) -> None:
    change, expected = LEAKS[case]
    problems = verify_output(make_output(change), identity, pseudonym)
    assert any(expected in p for p in problems), problems
    _assert_no_identifier_in(problems, identity)


def test_a_leak_outside_any_element_is_found_in_the_raw_bytes(
        make_output, identity: SourceIdentity, pseudonym: str) -> None:
    path = make_output()
    data = bytearray(path.read_bytes())
    data[10:10 + len(PATIENT.accession)] = PATIENT.accession.encode()  # inside the preamble
    path.write_bytes(bytes(data))
    problems = verify_output(path, identity, pseudonym)
    assert problems == ["An identifying value of the source is still present in the file's "
                        "bytes outside the pixel data."]


def test_trailing_padding_is_searched(make_output, identity: SourceIdentity,
                                      pseudonym: str) -> None:
    path = make_output(lambda ds: ds.add_new(0xFFFCFFFC, "OB", b"FAKENHAM"))
    assert any("bytes" in p for p in verify_output(path, identity, pseudonym))


def test_pixel_values_are_not_mistaken_for_names(make_output, identity: SourceIdentity,
                                                 pseudonym: str) -> None:
    def pixels_spell_a_name(ds: Dataset) -> None:
        ds.PixelData = (b" FAKENHAM " * 1000)[: ds.Rows * ds.Columns * 2]

    assert verify_output(make_output(pixels_spell_a_name), identity, pseudonym) == []


def test_short_name_parts_match_whole_words_only(tmp_path: Path, site_keys: SiteKeys) -> None:
    source = builders.ct_slice()
    source.PatientName = "LI^ANN"
    identity = SourceIdentity.from_dataset(source)
    out = _safe_output(source, site_keys, "Covid1234567890123456")
    out.Manufacturer = "SCANNER LIMITED"
    ok = builders.write(out, tmp_path / "ok.dcm")
    assert verify_output(ok, identity, "Covid1234567890123456") == []
    out.ImageComments = "Ann"
    leaked = builders.write(out, tmp_path / "leak.dcm")
    assert any("ImageComments" in p for p in verify_output(leaked, identity,
                                                           "Covid1234567890123456"))


def test_numbers_only_ids_are_not_found_in_times_numbers_or_hashed_uids(
        tmp_path: Path, site_keys: SiteKeys) -> None:
    source = builders.ct_slice()
    new_uid = remap_uid(site_keys, source.SOPInstanceUID)
    source.PatientID = new_uid[-9:-1]  # eight digits that occur in the new UID by design
    source.AccessionNumber = "101530"  # equals the (kept) study time
    identity = SourceIdentity.from_dataset(source)
    out = _safe_output(source, site_keys, "Covid1234567890123456")
    path = builders.write(out, tmp_path / "ok.dcm")
    assert verify_output(path, identity, "Covid1234567890123456") == []
    out.ImageComments = "accession 101530"
    path = builders.write(out, tmp_path / "leak.dcm")
    assert any("ImageComments" in p for p in verify_output(path, identity,
                                                           "Covid1234567890123456"))


def test_an_unreadable_output_fails_closed(tmp_path: Path, identity: SourceIdentity,
                                           pseudonym: str) -> None:
    path = tmp_path / "broken.dcm"
    path.write_bytes(b"this is not DICOM at all")
    assert verify_output(path, identity, pseudonym) == [
        "The de-identified file cannot be read back as DICOM."]


@pytest.mark.parametrize(("institution", "kept_manufacturer"), [
    ("TOSHIBA", "TOSHIBA_MEC"),          # pydicom's MR_small: the institution is the vendor
    ("Royal Surrey", "ROYALSURREY SYSTEMS"),
    ("Surrey", "Surrey2 Imaging"),
])
def test_an_institution_inside_a_longer_word_is_not_a_leak(
        institution: str, kept_manufacturer: str, tmp_path: Path, site_keys: SiteKeys) -> None:
    source = builders.ct_slice()
    source.InstitutionName = institution
    identity = SourceIdentity.from_dataset(source)
    out = _safe_output(source, site_keys, "Covid1234567890123456")
    out.Manufacturer = kept_manufacturer
    path = builders.write(out, tmp_path / "ok.dcm")
    assert verify_output(path, identity, "Covid1234567890123456") == []


@pytest.mark.parametrize(("institution", "leaked"), [
    ("TOSHIBA", "TOSHIBA MEC"),
    ("TOSHIBA", "toshiba"),
    ("TOSHIBA", "Scanner (Toshiba)"),
    ("Royal Surrey", "royal surrey, ward 3"),
    ("Royal Surrey", "ROYAL SURREY-WEST"),
])
def test_an_institution_as_a_whole_word_is_still_a_leak(
        institution: str, leaked: str, tmp_path: Path, site_keys: SiteKeys) -> None:
    source = builders.ct_slice()
    source.InstitutionName = institution
    identity = SourceIdentity.from_dataset(source)
    out = _safe_output(source, site_keys, "Covid1234567890123456")
    out.Manufacturer = leaked
    problems = verify_output(builders.write(out, tmp_path / "leak.dcm"), identity,
                             "Covid1234567890123456")
    assert any("Manufacturer" in p for p in problems), problems
    assert any("bytes" in p for p in problems), problems


@pytest.mark.parametrize("leaked", [f"X{PATIENT.hospital_number}_CT", f"{PATIENT.accession}B",
                                    f"scan_{PATIENT.other_id}"])
def test_identifiers_with_digits_are_found_inside_longer_words(
        leaked: str, make_output, identity: SourceIdentity, pseudonym: str) -> None:
    problems = verify_output(make_output(lambda ds: setattr(ds, "ImageComments", leaked)),
                             identity, pseudonym)
    assert any("ImageComments" in p for p in problems), problems


def test_a_verified_output_may_be_given_as_bytes(make_output, identity: SourceIdentity,
                                                 pseudonym: str) -> None:
    safe = make_output().read_bytes()
    assert verify_output(safe, identity, pseudonym) == []
    leaked = make_output(lambda ds: setattr(ds, "ImageComments", "FAKENHAM")).read_bytes()
    assert any("ImageComments" in p for p in verify_output(leaked, identity, pseudonym))


# --- the walk of the bytes and pydicom's parse give the same verdicts ------------------------

SYNTAXES = {"explicit little": ExplicitVRLittleEndian, "implicit little": ImplicitVRLittleEndian,
            "explicit big": ExplicitVRBigEndian}


def _both_checks(path: Path, identity: SourceIdentity, pseudonym: str) -> tuple[list[str],
                                                                                list[str]]:
    data = path.read_bytes()
    matcher = matcher_for(identity.strings, identity.words)
    return (check_walked(data, identity, matcher, pseudonym),
            check_parsed(data, identity, matcher, pseudonym))


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
@pytest.mark.parametrize("case", ["no leak", *sorted(LEAKS)])
def test_walking_the_bytes_finds_what_parsing_them_finds(
        case: str, syntax: str, make_output, identity: SourceIdentity, pseudonym: str) -> None:
    change = LEAKS[case][0] if case in LEAKS else None

    def in_syntax(ds: Dataset) -> None:
        if change is not None:
            change(ds)
        ds.file_meta.TransferSyntaxUID = SYNTAXES[syntax]

    walked, parsed = _both_checks(make_output(in_syntax), identity, pseudonym)
    assert walked == parsed
    assert (walked == []) == (case == "no leak")


def test_a_character_set_the_walk_leaves_to_pydicom_is_still_checked(
        make_output, identity: SourceIdentity, pseudonym: str) -> None:
    def iso_2022(ds: Dataset) -> None:
        ds.SpecificCharacterSet = ["ISO 2022 IR 6", "ISO 2022 IR 87"]
        ds.ImageComments = "FAKENHAM"

    path = make_output(iso_2022)
    with pytest.raises(NeedsFullParser):
        check_walked(path.read_bytes(), identity, matcher_for(identity.strings, identity.words),
                     pseudonym)
    problems = verify_output(path, identity, pseudonym)
    assert any("ImageComments" in p for p in problems), problems


def test_an_encapsulated_output_is_walked_and_its_fragments_skipped(
        tmp_path: Path, site_keys: SiteKeys) -> None:
    source = builders.fake_jpeg_baseline(builders.ct_slice(), frame=b"\xff\xd8 FAKENHAM \xff\xd9")
    identity = SourceIdentity.from_dataset(source)
    out = builders.fake_jpeg_baseline(_safe_output(source, site_keys, "Covid1234567890123456"),
                                      frame=b"\xff\xd8 FAKENHAM \xff\xd9")
    path = builders.write(out, tmp_path / "jpeg.dcm")
    assert _both_checks(path, identity, "Covid1234567890123456") == ([], [])
