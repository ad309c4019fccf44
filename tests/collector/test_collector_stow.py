"""STOW-RS over real HTTP: stored in the raw layout, idempotent, refusals with reasons."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pydicom
import pytest

from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.client import signed_in
from tests.collector.payloads import SC_STORAGE, dicom_file, stow_body
from tests.collector.service_setup import keys_of

TODAY = "2026-11-25"


@pytest.fixture
def pseudonym(service) -> str:
    return pseudonym_for(keys_of(service, "RSH"), hospital_number="RR70000001")


def _stow(api, paths: list[Path], **kwargs):
    body, headers = stow_body([p.read_bytes() for p in paths], **kwargs)
    return api.post("/dicom-web/studies", data=body, headers=headers)


def _uids(answer: dict, tag: str) -> list[str]:
    return [item["00081155"].get("Value", [None])[0] for item in answer.get(tag, {}).get("Value", [])]


def test_instances_are_stored_as_part10_files_in_the_raw_layout(live, pseudonym, tmp_path,
                                                                warehouse) -> None:
    api = signed_in(live.url, "imager1")
    files = [dicom_file(tmp_path / f"{i}.dcm", pseudonym, study_uid="1.2.3.4") for i in range(3)]
    response = _stow(api, files)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/dicom+json")
    answer = response.json()
    sent = [pydicom.dcmread(f).SOPInstanceUID for f in files]
    assert _uids(answer, "00081199") == sent and "00081198" not in answer
    stored = warehouse.keys(f"raw-RSH/{TODAY}/images/*")
    assert warehouse.keys() == stored
    assert [key.rsplit("/", 1)[1] for key in stored] == sorted(f"{uid}.dcm" for uid in sent)
    by_uid = {pydicom.dcmread(f).SOPInstanceUID: f for f in files}
    for key in stored:
        copy = tmp_path / "read-back.dcm"
        copy.write_bytes(warehouse.read(key))
        assert copy.read_bytes() == by_uid[key.rsplit("/", 1)[1][:-4]].read_bytes()
        assert copy.read_bytes()[128:132] == b"DICM"
        dump = subprocess.run(["dcmdump", str(copy)], capture_output=True, text=True, check=True)
        assert pseudonym in dump.stdout
    assert not list(live.service.store.spool.iterdir())
    assert warehouse.unfinished_uploads() == []


def test_storing_an_instance_twice_is_a_success_without_a_second_file(live, pseudonym, tmp_path,
                                                                       clock, warehouse) -> None:
    api = signed_in(live.url, "imager1")
    path = dicom_file(tmp_path / "a.dcm", pseudonym)
    assert _stow(api, [path]).status_code == 200
    clock.advance(days=1)
    api = signed_in(live.url, "imager1")
    again = _stow(api, [path, path])
    assert again.status_code == 200 and len(_uids(again.json(), "00081199")) == 2
    assert len(warehouse.keys("raw-RSH/*/images/*.dcm")) == 1
    uid = pydicom.dcmread(path).SOPInstanceUID
    known = api.post("/api/v1/images/known", json={"sop_instance_uids": [uid, "1.2.999"]})
    assert known.json() == {"known": [uid]}


@pytest.mark.parametrize(("spoil", "expected", "code"), [
    ({"identity_removed": "NO"}, "PatientIdentityRemoved", "not_marked_deidentified"),
    ({"private_tag": True}, "Private tag (0009,1010)", "private_tag"),
    ({"nested_private_tag": True}, "DeidentificationMethodCodeSequence item 1 > (0011,1001)",
     "private_tag"),
    ({"sop_class": SC_STORAGE, "modality": "OT"}, "secondary capture", "burned_in_text"),
])
def test_unsafe_instances_are_refused_with_a_reason(live, pseudonym, tmp_path, spoil,
                                                    expected, code, warehouse) -> None:
    api = signed_in(live.url, "imager1")
    bad = dicom_file(tmp_path / "bad.dcm", pseudonym, **spoil)
    good = dicom_file(tmp_path / "good.dcm", pseudonym)
    response = _stow(api, [good, bad])
    assert response.status_code == 202
    answer = response.json()
    bad_uid = pydicom.dcmread(bad).SOPInstanceUID
    assert _uids(answer, "00081198") == [bad_uid]
    failure = answer["00081198"]["Value"][0]
    assert failure["00081197"] == {"vr": "US", "Value": [0xC000]}
    assert expected in answer["nccid:failures"][0]["message"]
    assert answer["nccid:failures"][0]["code"] == code
    assert answer["nccid:failures"][0]["sop_instance_uid"] == bad_uid
    assert warehouse.keys() == [f"raw-RSH/{TODAY}/images/{pydicom.dcmread(good).SOPInstanceUID}.dcm"]


def test_a_forged_patient_id_is_refused_and_nothing_is_kept(live, tmp_path, warehouse) -> None:
    api = signed_in(live.url, "imager1")
    forged = dicom_file(tmp_path / "f.dcm", "RR70000009", patient_name="SMITH^JANE")
    response = _stow(api, [forged])
    assert response.status_code == 409
    assert "not a pseudonym" in response.json()["nccid:failures"][0]["message"]
    leftovers = [p for p in live.settings.data_dir.rglob("*") if p.is_file()
                 and b"SMITH^JANE" in p.read_bytes()]
    assert leftovers == [] and warehouse.keys() == []


def test_a_non_dicom_part_is_refused(live, pseudonym, tmp_path) -> None:
    api = signed_in(live.url, "imager1")
    body, headers = stow_body([b"this is not DICOM"])
    response = api.post("/dicom-web/studies", data=body, headers=headers)
    assert response.status_code == 409
    assert response.json()["nccid:failures"] == [
        {"sop_instance_uid": None, "message": "This part is not a DICOM file.",
         "code": "not_dicom", "keyword": None}]


def test_wrong_media_type_and_broken_bodies_are_plain_errors(live, pseudonym, tmp_path) -> None:
    api = signed_in(live.url, "imager1")
    wrong = api.post("/dicom-web/studies", data=b"{}", headers={"Content-Type": "application/json"})
    assert wrong.status_code == 415 and wrong.json()["code"] == "unsupported_media_type"
    body, headers = stow_body([dicom_file(tmp_path / "a.dcm", pseudonym).read_bytes()])
    cut = api.post("/dicom-web/studies", data=body[:-40], headers=headers)
    assert cut.status_code == 400 and cut.json()["code"] == "bad_multipart"
    empty = api.post("/dicom-web/studies", data=b"--x--\r\n",
                     headers={"Content-Type": "multipart/related; boundary=x"})
    assert empty.status_code == 400


def test_images_are_the_imaging_roles_and_the_sites_own(live, pseudonym, tmp_path,
                                                        warehouse) -> None:
    path = dicom_file(tmp_path / "a.dcm", pseudonym)
    assert _stow(signed_in(live.url, "nurse1"), [path]).status_code == 403
    assert _stow(signed_in(live.url, "imager1"), [path]).status_code == 200
    other = signed_in(live.url, "other1")
    uid = pydicom.dcmread(path).SOPInstanceUID
    assert other.post("/api/v1/images/known", json={"sop_instance_uids": [uid]}).json() == {
        "known": []}
    refused = _stow(other, [path])
    assert refused.status_code == 409 and "another site" in refused.json()["nccid:failures"][0][
        "message"]
    assert warehouse.keys("raw-OTH/*/images/*") == [] and len(warehouse.keys()) == 1


def test_concurrent_uploads_of_the_same_instances_store_each_once(live, pseudonym, tmp_path,
                                                                  warehouse) -> None:
    from concurrent.futures import ThreadPoolExecutor

    api = signed_in(live.url, "imager1")
    files = [dicom_file(tmp_path / f"{i}.dcm", pseudonym) for i in range(12)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _stow(api, files), range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert all(len(_uids(a.json(), "00081199")) == 12 for a in answers)
    assert len(warehouse.keys("raw-RSH/*/images/*.dcm")) == 12
    uids = [pydicom.dcmread(f).SOPInstanceUID for f in files]
    assert len(live.service.images.known("RSH", uids)) == 12
