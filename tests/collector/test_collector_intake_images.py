"""STOW over real HTTP: the service runs the workstation's profile check on every instance.

Each case is an instance a hand-made client could send with a signed-in imaging account, which
the service stored before: refused now, with the rule and the attribute named (never the
value), nothing of it kept (no warehouse file, no spool file, no index row), and audited with
the route, the reason and the source address. A real workstation output is stored.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from sqlalchemy import select

from nccid_collector import audit
from nccid_collector.db import images
from nccid_collector.intake import set_hospital_pattern
from nccid_desktop.dicom.deid.one_file import DeidContext, deidentify_file
from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.client import signed_in
from tests.collector.payloads import dicom_file, stow_body
from tests.collector.service_setup import keys_of
from tests.collector.warehouse_view import WarehouseView
from tests.dicom import builders

NHS = "9434765919"
FULL_WIDTH_NHS = "".join(chr(0xFF10 + int(d)) for d in NHS)


@pytest.fixture
def pseudonym(service) -> str:
    return pseudonym_for(keys_of(service, "RSH"), hospital_number="RR70000001")


def _person(name: str) -> Dataset:
    item = Dataset()
    item.PatientName = name
    item.PatientID = "RR99887766"
    return item


def _utf8(ds: Dataset, keyword: str, value: str) -> None:
    ds.SpecificCharacterSet = "ISO_IR 192"
    setattr(ds, keyword, value)


#: case -> (how the instance is spoiled, the refusal code, the attribute named, planted values)
CASES = {
    "other patient IDs": (lambda ds: setattr(ds, "OtherPatientIDs", NHS),
                          "identifying_attribute", "OtherPatientIDs", [NHS]),
    "a nested referenced patient": (
        lambda ds: setattr(ds, "ReferencedPatientSequence", Sequence([_person("SMITH^JANE")])),
        "identifying_attribute", "ReferencedPatientSequence", ["SMITH^JANE", "RR99887766"]),
    "institution name": (lambda ds: setattr(ds, "InstitutionName", "HOSPX12345 Hospital"),
                         "identifying_attribute", "InstitutionName", ["HOSPX12345"]),
    "an NHS number in full-width digits in a kept text": (
        lambda ds: _utf8(ds, "ProtocolName", f"chest {FULL_WIDTH_NHS}"),
        "identifier_value", "ProtocolName", [FULL_WIDTH_NHS]),
    "a spaced NHS number in a code meaning two sequences down": (
        lambda ds: setattr(ds, "AnatomicRegionSequence", Sequence([_code(
            "943 476 5919")])), "identifier_value", "CodeMeaning", ["943 476 5919"]),
    "a name in an attribute the profile empties": (
        lambda ds: setattr(ds, "ReferringPhysicianName", "WHO^DOCTOR"),
        "identifying_attribute", "ReferringPhysicianName", ["WHO^DOCTOR"]),
    "burned-in annotation": (lambda ds: setattr(ds, "BurnedInAnnotation", "YES"),
                             "burned_in_text", "burned_in_annotation", []),
}


def _code(meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = "T-D3000"
    item.CodingSchemeDesignator = "SRT"
    item.CodeMeaning = "Chest"
    inner = Dataset()
    inner.CodeValue = "X"
    inner.CodingSchemeDesignator = "99TEST"
    inner.CodeMeaning = meaning
    item.AnatomicRegionModifierSequence = Sequence([inner])
    return item


def _spoiled(folder: Path, pseudonym: str, spoil) -> Path:
    path = dicom_file(folder / "spoiled.dcm", pseudonym)
    ds = pydicom.dcmread(path)
    spoil(ds)
    ds.save_as(path, enforce_file_format=True)
    return path


def _everything_written(root: Path, warehouse: WarehouseView) -> list[bytes]:
    """The service's own files (logs aside) and every warehouse object, S3 or folder."""
    return ([p.read_bytes() for p in root.rglob("*") if p.is_file() and "logs" not in p.parts]
            + list(warehouse.contents().values()))


def test_each_unsafe_instance_is_refused_named_kept_nowhere_and_audited(
        live, service, pseudonym, tmp_path, warehouse) -> None:
    api = signed_in(live.url, "imager1")
    for number, (case, (spoil, code, keyword, planted)) in enumerate(sorted(CASES.items()),
                                                                   start=1):
        bad = _spoiled(tmp_path, pseudonym, spoil)
        body, headers = stow_body([bad.read_bytes()])
        response = api.post("/dicom-web/studies", data=body, headers=headers)
        assert response.status_code == 409, case
        [failure] = response.json()["nccid:failures"]
        assert (failure["code"], failure["keyword"]) == (code, keyword), case
        assert failure["sop_instance_uid"] == pydicom.dcmread(bad).SOPInstanceUID
        assert keyword in failure["message"] or code == "burned_in_text"
        for value in planted:
            assert value not in response.text, case
            assert not any(value.encode() in data for data in _everything_written(
                live.settings.data_dir, warehouse)), case
        assert warehouse.keys("raw-*/*/images/*") == []
        assert list(service.store.spool.iterdir()) == []
        with service.db.connect() as conn:
            assert conn.execute(select(images.c.id)).all() == []
        refused = audit.entries(service.db, "RSH", kind="refused")
        assert len(refused) == number, case
        assert (refused[-1]["username"], refused[-1]["action"], refused[-1]["route"],
                refused[-1]["reason"], refused[-1]["address"]) == (
            "imager1", "stow", "POST /dicom-web/studies", f"{code}:{keyword}", "127.0.0.1")


def test_the_sites_hospital_pattern_is_refused_in_image_text(live, service, pseudonym,
                                                            tmp_path) -> None:
    api = signed_in(live.url, "imager1")
    path = _spoiled(tmp_path, pseudonym, lambda ds: setattr(ds, "ProtocolName",
                                                            "RR12345678 chest"))
    body, headers = stow_body([path.read_bytes()])
    assert api.post("/dicom-web/studies", data=body, headers=headers).status_code == 200
    set_hospital_pattern(service.db, "RSH", r"^RR\d{8}$")
    again = _spoiled(tmp_path, pseudonym, lambda ds: setattr(ds, "ProtocolName",
                                                             "RR12345678 chest"))
    body, headers = stow_body([again.read_bytes()])
    response = api.post("/dicom-web/studies", data=body, headers=headers)
    assert response.status_code == 409
    assert response.json()["nccid:failures"][0]["code"] == "identifier_value"


def test_the_workstations_output_is_stored(live, service, tmp_path, warehouse) -> None:
    keys = keys_of(service, "RSH")
    source = builders.ct_slice()
    builders.add_nested_sequences(source)
    builders.add_private_tags(source)
    outcome = deidentify_file(builders.write(source, tmp_path / "source.dcm"), tmp_path / "out",
                              DeidContext(keys))
    assert outcome.output is not None
    body, headers = stow_body([outcome.output.read_bytes()])
    response = signed_in(live.url, "imager1").post("/dicom-web/studies", data=body,
                                                   headers=headers)
    assert response.status_code == 200, response.text
    assert len(warehouse.keys("raw-RSH/*/images/*.dcm")) == 1
