"""The profile check without the source: what the workstation writes conforms; each leak a
client could plant is named by its rule and attribute, at any depth, in any transfer syntax.

The collection service runs this check on every instance it receives (it has no source), and
the workstation's verifier runs it on every output: the rule lives once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pydicom.data
import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from nccid_desktop.dicom.deid.one_file import DeidContext, deidentify_file
from nccid_desktop.dicom.verify.conformance import check_conformance
from nccid_desktop.dicom.verify.identity import SourceIdentity
from nccid_desktop.dicom.verify.verifier import verify_output
from nccid_desktop.identifier_shapes import IdentifierShapes
from nccid_desktop.keys import SiteKeys
from tests.dicom import builders

NHS = "9434765919"
FULL_WIDTH_NHS = "".join(chr(0xFF10 + int(d)) for d in NHS)
SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian]


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """What the workstation writes for a CT slice with nested sequences and private tags."""
    keys = SiteKeys(site="RSH", secret=bytes(range(32)), controller_public_key=b"")
    folder = tmp_path_factory.mktemp("conformance")
    source = builders.ct_slice()
    builders.add_nested_sequences(source)
    builders.add_private_tags(source)
    outcome = deidentify_file(builders.write(source, folder / "source.dcm"), folder / "out",
                              DeidContext(keys))
    assert outcome.status == "deidentified" and outcome.output is not None
    return outcome.output.read_bytes()


def _rewritten(data: bytes, change: Callable[[Dataset], object] | None = None,
               syntax: str = ExplicitVRLittleEndian) -> bytes:
    ds = dcmread(io.BytesIO(data))
    if change is not None:
        change(ds)
    ds.file_meta.TransferSyntaxUID = syntax
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def _found(data: bytes, shapes: IdentifierShapes | None = None) -> list[tuple[str, str]]:
    result = check_conformance(data, shapes=shapes or IdentifierShapes())
    return [(p.rule, p.keyword) for p in result.problems]


def _item(**values: str) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _in_utf8(item: Dataset, keyword: str, value: str, ds: Dataset) -> None:
    ds.SpecificCharacterSet = "ISO_IR 192"
    setattr(item, keyword, value)


def _innermost(ds: Dataset) -> Dataset:
    return ds.ViewCodeSequence[0].ViewModifierCodeSequence[0].AnatomicRegionSequence[0]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_the_workstations_output_conforms(output: bytes, syntax: str) -> None:
    data = output if syntax == ExplicitVRLittleEndian else _rewritten(output, syntax=syntax)
    result = check_conformance(data)
    assert result.problems == []
    assert result.facts["PatientID"][0].startswith("Covid")
    assert result.facts["SOPInstanceUID"] == result.facts["MediaStorageSOPInstanceUID"]


def test_every_bundled_vendor_file_once_deidentified_conforms(tmp_path: Path,
                                                              site_keys: SiteKeys) -> None:
    """Real files nobody here wrote (pydicom's test corpus): every output the workstation
    writes passes the service's check; none is refused by it."""
    root = Path(pydicom.data.__file__).parent / "test_files"
    outputs = []
    for source in sorted(p for p in root.rglob("*") if p.is_file()):
        outcome = deidentify_file(source, tmp_path / "out", DeidContext(site_keys))
        if outcome.status == "deidentified" and outcome.output is not None:
            outputs.append(outcome.output)
    assert len(outputs) >= 80
    refused = {path.name: check_conformance(path.read_bytes()).problems for path in outputs}
    assert {name: problems for name, problems in refused.items() if problems} == {}


LEAKS: dict[str, tuple[Callable[[Dataset], object], tuple[str, str]]] = {
    "other patient IDs": (lambda ds: setattr(ds, "OtherPatientIDs", NHS),
                          ("identifying_attribute", "OtherPatientIDs")),
    "a referenced patient's name, nested": (
        lambda ds: setattr(ds, "ReferencedPatientSequence",
                           Sequence([_item(PatientName="SMITH^JANE")])),
        ("identifying_attribute", "ReferencedPatientSequence")),
    "institution name": (lambda ds: setattr(ds, "InstitutionName", "HOSPX12345 Hospital"),
                         ("identifying_attribute", "InstitutionName")),
    "accession number": (lambda ds: setattr(ds, "AccessionNumber", "ACC1"),
                         ("identifying_attribute", "AccessionNumber")),
    "full birth date": (lambda ds: setattr(ds, "PatientBirthDate", "19630412"),
                        ("identifying_attribute", "PatientBirthDate")),
    "a name nested three sequences down": (
        lambda ds: setattr(_innermost(ds), "PerformingPhysicianName", "WHO^KNOWS"),
        ("identifying_attribute", "PerformingPhysicianName")),
    "a person name in an unlisted attribute": (
        lambda ds: setattr(ds, "ContentCreatorName", "SMITH^JANE"),
        ("identifying_attribute", "ContentCreatorName")),
    "a kept text holding an NHS number": (
        lambda ds: setattr(ds, "ProtocolName", f"patient NHS {NHS}"),
        ("identifier_value", "ProtocolName")),
    "full-width digits three sequences down": (
        lambda ds: _in_utf8(_innermost(ds), "CodeMeaning", FULL_WIDTH_NHS, ds),
        ("identifier_value", "CodeMeaning")),
    "a code meaning inside a dummied sequence": (
        lambda ds: setattr(ds, "OperatorIdentificationSequence",
                           Sequence([_item(CodeMeaning="Dr Jane Smith")])),
        ("identifying_attribute", "CodeMeaning")),
    "an emptied sequence with items": (
        lambda ds: setattr(ds, "ReferencedStudySequence",
                           Sequence([_item(ReferencedSOPClassUID="1.2.3")])),
        ("identifying_attribute", "ReferencedStudySequence")),
    "a private tag nested": (lambda ds: _innermost(ds).add_new(0x00111010, "LO", "x"),
                             ("private_tag", "(0011,1010)")),
    "an overlay": (lambda ds: builders.add_overlay(ds), ("overlay_or_curve", "OverlayRows")),
    "patient ID not a pseudonym": (lambda ds: setattr(ds, "PatientID", "RR12345678"),
                                   ("not_pseudonymised", "PatientID")),
    "patient name not the pseudonym": (lambda ds: setattr(ds, "PatientName", "SMITH^JANE"),
                                       ("not_pseudonymised", "PatientName")),
    "identity removed missing": (lambda ds: delattr(ds, "PatientIdentityRemoved"),
                                 ("not_marked_deidentified", "PatientIdentityRemoved")),
    "burned-in annotation": (lambda ds: setattr(ds, "BurnedInAnnotation", "YES"),
                             ("burned_in_text", "burned_in_annotation")),
}


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("case", sorted(LEAKS))
def test_each_leak_is_named_by_rule_and_attribute(output: bytes, case: str, syntax: str) -> None:
    change, expected = LEAKS[case]
    data = _rewritten(output, change, syntax)
    found = _found(data)
    assert expected in found, found
    messages = " ".join(p.message for p in check_conformance(data).problems)
    for planted in (NHS, FULL_WIDTH_NHS, "SMITH", "JANE", "HOSPX", "19630412", "Dr Jane"):
        assert planted not in messages


def test_every_problem_of_a_nested_leak_is_named(output: bytes) -> None:
    data = _rewritten(output, lambda ds: setattr(
        ds, "ReferencedPatientSequence", Sequence([_item(PatientName="SMITH^JANE")])))
    assert set(_found(data)) == {("identifying_attribute", "ReferencedPatientSequence"),
                                 ("identifying_attribute", "PatientName")}


def test_the_sites_hospital_pattern_is_found_in_kept_text(output: bytes) -> None:
    data = _rewritten(output, lambda ds: setattr(ds, "ProtocolName", "from RR12345678"))
    assert _found(data) == []
    shapes = IdentifierShapes.for_site(r"^RR\d{8}$")
    assert _found(data, shapes) == [("identifier_value", "ProtocolName")]


def test_dummies_and_the_birth_year_are_conforming_values(output: bytes) -> None:
    def conforming(ds: Dataset) -> None:
        ds.PatientBirthDate = "19630101"
        ds.OperatorIdentificationSequence = Sequence([_item(CodeMeaning="ANONYMOUS")])
        ds.InstitutionName = ""
        ds.ReferencedStudySequence = Sequence()

    assert _found(_rewritten(output, conforming)) == []


def test_bytes_that_are_not_dicom_are_unreadable() -> None:
    assert _found(b"not dicom at all" * 20) == [("unreadable", "")]


def test_the_desktop_verifier_runs_the_same_check(output: bytes) -> None:
    """A leak the source does not show (a number that is not the patient's) is still caught."""
    source = builders.ct_slice()
    identity = SourceIdentity.from_dataset(source)
    data = _rewritten(output, lambda ds: setattr(ds, "ProtocolName", f"ref {NHS}"))
    pseudonym = check_conformance(output).facts["PatientID"][0]
    problems = verify_output(data, identity, pseudonym)
    assert any("ProtocolName" in p and "NHS/CHI" in p for p in problems), problems
