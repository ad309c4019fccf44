"""De-identifying one dataset and one file: the NCCID profile end to end on synthetic DICOM."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from nccid_desktop.dicom.deid.one_file import (
    DeidContext,
    Quarantined,
    deidentify_dataset,
    deidentify_file,
)
from nccid_desktop.dicom.scan.sources import SourceFile
from nccid_desktop.pseudonym import date_shift_days, pseudonym_for, remap_uid
from tests.dicom import builders

PATIENT = builders.PATIENT
IDENTIFYING = (PATIENT.hospital_number, "FAKENHAM", "JOSEPHINE", PATIENT.accession,
               PATIENT.other_id, PATIENT.institution, "WHITTLESEA", "OKONKWO", "PLUMSTEAD",
               "Quarry Lane", PATIENT.telephone, PATIENT.birth_date, "Radiology Dept")


def all_elements(ds: Dataset):
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from all_elements(item)


def shifted(value: str, days: int) -> str:
    moved = date(int(value[:4]), int(value[4:6]), int(value[6:8])) + timedelta(days=days)
    return moved.strftime("%Y%m%d")


@pytest.fixture
def staged(ct_file: Path, tmp_path: Path, deid_context: DeidContext):
    outcome = deidentify_file(ct_file, tmp_path / "staging", deid_context,
                              quarantine_dir=tmp_path / "quarantine")
    assert outcome.status == "deidentified", outcome.message
    return outcome, dcmread(ct_file), dcmread(outcome.output)


def test_output_is_named_by_the_remapped_uid_and_carries_the_sheet_pseudonym(
        staged, site_keys, pseudonym):
    outcome, source, out = staged
    assert outcome.output.name == f"{remap_uid(site_keys, source.SOPInstanceUID)}.dcm"
    assert outcome.sop_instance_uid == out.SOPInstanceUID == out.file_meta.MediaStorageSOPInstanceUID
    assert outcome.pseudonym == pseudonym
    assert out.PatientID == out.PatientName == pseudonym
    assert pseudonym == pseudonym_for(site_keys, hospital_number=" rr12345678 ")
    assert outcome.bytes == outcome.output.stat().st_size


def test_no_identifier_survives_anywhere_in_the_output_bytes(staged):
    outcome, _, _ = staged
    data = outcome.output.read_bytes().upper()
    for value in IDENTIFYING:
        assert value.upper().encode() not in data, value


def test_private_overlay_and_curve_elements_are_gone_at_every_depth(staged):
    _, _, out = staged
    for elem in all_elements(out):
        assert not elem.tag.is_private
        assert elem.tag.group >> 8 not in (0x50, 0x60)
    assert "ViewCodeSequence" in out  # kept sequence, walked three levels deep
    innermost = out.ViewCodeSequence[0].ViewModifierCodeSequence[0].AnatomicRegionSequence[0]
    assert innermost.PersonName == "ANONYMOUS"  # Basic Profile D: a dummy name
    assert "InstitutionName" not in innermost or not innermost.InstitutionName
    assert innermost.CodeMeaning == "Chest"


def test_uids_are_remapped_consistently_everywhere(staged, site_keys):
    _, source, out = staged
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        assert out[keyword].value == remap_uid(site_keys, source[keyword].value)
    assert out.SOPClassUID == source.SOPClassUID
    assert out.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    ref = out.ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == remap_uid(site_keys, builders.uid(1, 1, 999))
    assert ref.ReferencedSOPClassUID == source.SOPClassUID
    deep = out.ViewCodeSequence[0].ViewModifierCodeSequence[0].AnatomicRegionSequence[0]
    assert deep.ReferencedSOPInstanceUID == remap_uid(site_keys, builders.uid(1, 1, 998))


def test_dates_real_shifted_or_reduced_as_nccid_decided(tmp_path, deid_context, site_keys,
                                                         pseudonym):
    ds = builders.ct_slice()
    ds.InstanceCreationDate = "20201105"
    ds.AcquisitionDateTime = "20201103101530"
    ds.add_new(0x00080416, "DT", "20211231235959.5+0000")  # ExpirationDateTime, not in table
    ds.InstanceCreationTime = "101010"
    del ds.PatientBirthDate
    ds.PatientBirthDate = "19630412"
    path = builders.write(ds, tmp_path / "src" / "a")
    out = dcmread(deidentify_file(path, tmp_path / "out", deid_context).output)
    days = date_shift_days(site_keys, pseudonym)
    assert -1095 <= days <= -1
    for keyword in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        assert out[keyword].value == builders.STUDY_DATE
    assert out.StudyTime == builders.STUDY_TIME
    assert out.AcquisitionDateTime == "20201103101530"
    assert out.InstanceCreationDate == shifted("20201105", days)
    assert out[0x00080416].value == shifted("20211231", days) + "235959.5+0000"
    assert out.InstanceCreationTime == "101010"
    assert out.PatientBirthDate == "19630101"
    assert out.PatientAge == "057Y"  # computed from birth and study date: it was missing
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"


def test_patient_characteristics_and_device_identity_are_kept(staged):
    _, source, out = staged
    assert out.PatientSex == source.PatientSex
    assert out.DeviceSerialNumber == source.DeviceSerialNumber
    assert out.StationName == source.StationName
    assert out.Manufacturer == source.Manufacturer
    assert out.BodyPartExamined == "CHEST"


def test_basic_profile_removes_empties_and_dummies(staged):
    _, _, out = staged
    for keyword in ("OtherPatientIDs", "OtherPatientIDsSequence", "PatientAddress",
                    "PatientTelephoneNumbers", "InstitutionAddress", "PerformingPhysicianName",
                    "InstitutionalDepartmentName", "IssuerOfPatientID",
                    "RequestAttributesSequence"):
        assert keyword not in out, keyword
    for keyword in ("AccessionNumber", "ReferringPhysicianName", "InstitutionName",
                    "OperatorsName", "StudyID"):
        assert keyword in out and not out[keyword].value, keyword


def test_identity_removed_markers(staged):
    _, _, out = staged
    assert out.PatientIdentityRemoved == "YES"
    assert "Basic Profile" in out.DeidentificationMethod[0]
    codes = [(i.CodeValue, i.CodingSchemeDesignator)
             for i in out.DeidentificationMethodCodeSequence]
    assert codes == [(c, "DCM") for c in ("113100", "113105", "113107", "113108", "113109")]


def test_descriptions_kept_only_without_the_patients_details(tmp_path, deid_context):
    ds = builders.ct_slice()
    ds.StudyDescription = "CT CHEST"
    ds.SeriesDescription = "Chest for Fakenham"
    ds.ProtocolName = f"RSH {PATIENT.accession} protocol"
    path = builders.write(ds, tmp_path / "src" / "a")
    out = dcmread(deidentify_file(path, tmp_path / "out", deid_context).output)
    assert out.StudyDescription == "CT CHEST"
    assert "SeriesDescription" not in out
    assert "ProtocolName" not in out


def test_a_slice_with_one_more_name_is_judged_on_its_own_names(tmp_path, deid_context):
    """The patient's identifying strings are remembered per patient: a later slice of the same
    patient that names one more person must not be judged with the earlier slice's strings."""
    outputs = []
    for instance, operator in ((1, None), (2, "QUENBY^ROSALIND"), (3, None)):
        ds = builders.ct_slice(instance=instance)
        ds.SeriesDescription = "Chest for Quenby"
        if operator is not None:
            ds.OperatorsName = operator
        path = builders.write(ds, tmp_path / "src" / f"IM{instance}")
        outcome = deidentify_file(path, tmp_path / "out", deid_context)
        assert outcome.status == "deidentified", outcome.message
        outputs.append(dcmread(outcome.output))
    assert [o.get("SeriesDescription") for o in outputs] == ["Chest for Quenby", None,
                                                             "Chest for Quenby"]


def test_the_deidentification_marks_are_the_same_whichever_way_they_are_made(deid_context):
    """Read datasets get the marks copied from their encoding; datasets made in memory get
    them built: both carry the same values."""
    made, read = builders.ct_slice(), builders.ct_slice()
    read.set_original_encoding(False, True, read.get("SpecificCharacterSet"))
    for ds in (made, read):
        deidentify_dataset(ds, deid_context)
    for keyword in ("PatientIdentityRemoved", "DeidentificationMethod",
                    "LongitudinalTemporalInformationModified"):
        assert made[keyword].value == read[keyword].value
    assert made.DeidentificationMethodCodeSequence == read.DeidentificationMethodCodeSequence


def test_originals_are_never_modified(ct_file, tmp_path, deid_context):
    before = ct_file.read_bytes()
    mtime = ct_file.stat().st_mtime_ns
    deidentify_file(ct_file, tmp_path / "staging", deid_context)
    assert ct_file.read_bytes() == before
    assert ct_file.stat().st_mtime_ns == mtime


def test_same_input_twice_gives_byte_identical_output(ct_file, tmp_path, deid_context):
    first = deidentify_file(ct_file, tmp_path / "one", deid_context)
    second = deidentify_file(ct_file, tmp_path / "two", deid_context)
    assert first.output.name == second.output.name
    assert first.output.read_bytes() == second.output.read_bytes()
    assert first.output.read_bytes()[:132] == bytes(128) + b"DICM"


@pytest.mark.parametrize("encode", [builders.compress_rle, builders.fake_jpeg_baseline])
def test_compressed_pixel_data_passes_through_byte_for_byte(encode, tmp_path, deid_context):
    ds = encode(builders.cr_image())
    path = builders.write(ds, tmp_path / "src" / "cr")
    source = dcmread(path)
    outcome = deidentify_file(path, tmp_path / "out", deid_context)
    assert outcome.status == "deidentified", outcome.message
    out = dcmread(outcome.output)
    assert out.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert out.PixelData == source.PixelData


def test_implicit_little_endian_stays_implicit(tmp_path, deid_context):
    ds = builders.implicit_little_endian(builders.ct_slice())
    builders.add_private_tags(ds)
    path = builders.write(ds, tmp_path / "src" / "implicit")
    outcome = deidentify_file(path, tmp_path / "out", deid_context)
    assert outcome.status == "deidentified", outcome.message
    out = dcmread(outcome.output)
    assert out.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
    assert not any(e.tag.is_private for e in all_elements(out))
    assert out.PixelData == dcmread(path).PixelData


def test_zip_members_are_read_like_files(ct_file, tmp_path, deid_context):
    import zipfile

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(ct_file, "FAKENHAM/IM0001")
    outcome = deidentify_file(SourceFile(archive, "FAKENHAM/IM0001"), tmp_path / "out",
                              deid_context)
    direct = deidentify_file(ct_file, tmp_path / "direct", deid_context)
    assert outcome.output.read_bytes() == direct.output.read_bytes()


# --- refusals --------------------------------------------------------------------------------

def test_secondary_capture_is_quarantined_under_a_hash_with_its_reason(tmp_path, deid_context):
    path = builders.write(builders.secondary_capture(),
                          tmp_path / "FAKENHAM JOSEPHINE" / "SC" / "IM0001")
    quarantine = tmp_path / "quarantine"
    outcome = deidentify_file(path, tmp_path / "staging", deid_context,
                              quarantine_dir=quarantine)
    assert (outcome.status, outcome.code) == ("quarantined", "secondary_capture")
    assert not list((tmp_path / "staging").glob("*")) if (tmp_path / "staging").exists() else True
    copies = sorted(p.name for p in (quarantine / "secondary_capture").iterdir())
    assert copies == [f"{outcome.source_key}.dcm", f"{outcome.source_key}.txt"]
    assert (quarantine / "secondary_capture" / copies[0]).read_bytes() == path.read_bytes()
    reason = (quarantine / "secondary_capture" / copies[1]).read_text()
    assert "secondary capture" in reason and "FAKENHAM" not in reason.upper()


def test_burned_in_annotation_fails_closed_before_any_change(deid_context):
    ds = builders.dx_image()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(Quarantined) as refusal:
        deidentify_dataset(ds, deid_context)
    assert refusal.value.code == "burned_in_annotation"
    assert ds.PatientID == PATIENT.hospital_number  # untouched


@pytest.mark.parametrize("patient_id", [None, "", "   "])
def test_missing_patient_id_is_quarantined(patient_id, tmp_path, deid_context):
    ds = builders.ct_slice()
    if patient_id is None:
        del ds.PatientID
    else:
        ds.PatientID = patient_id
    path = builders.write(ds, tmp_path / "src" / "a")
    outcome = deidentify_file(path, tmp_path / "out", deid_context)
    assert (outcome.status, outcome.code) == ("quarantined", "no_patient_id")
    assert outcome.output is None


def test_nhs_linking_uses_the_nhs_number_in_patient_id(tmp_path, site_keys):
    ctx = DeidContext(site_keys, linking="nhs")
    ds = builders.ct_slice()
    ds.PatientID = "943 476 5919"
    out = deidentify_file(builders.write(ds, tmp_path / "src" / "a"), tmp_path / "out", ctx)
    assert out.pseudonym == pseudonym_for(site_keys, nhs_number="9434765919", linking="nhs")
    bad = builders.ct_slice(instance=2)  # a hospital number is not an NHS number
    refused = deidentify_file(builders.write(bad, tmp_path / "src" / "b"), tmp_path / "out", ctx)
    assert (refused.status, refused.code) == ("quarantined", "no_patient_id")
    assert "9434765919" not in refused.message


def test_a_leak_the_profile_misses_is_caught_by_the_verifier_and_never_staged(
        tmp_path, deid_context):
    ds = builders.ct_slice()
    ds.Manufacturer = f"ACME for {PATIENT.hospital_number}"  # kept by Retain Device Identity
    path = builders.write(ds, tmp_path / "src" / "a")
    quarantine = tmp_path / "quarantine"
    outcome = deidentify_file(path, tmp_path / "staging", deid_context,
                              quarantine_dir=quarantine)
    assert (outcome.status, outcome.code) == ("quarantined", "verify_failed")
    assert "Manufacturer" in outcome.message
    assert PATIENT.hospital_number not in outcome.message
    assert list((tmp_path / "staging").iterdir()) == []
    assert (quarantine / "verify_failed" / f"{outcome.source_key}.dcm").exists()


def test_verify_failure_without_quarantine_folder_deletes_the_output(tmp_path, deid_context):
    ds = builders.ct_slice()
    ds.Manufacturer = f"ACME for {PATIENT.hospital_number}"
    outcome = deidentify_file(builders.write(ds, tmp_path / "src" / "a"), tmp_path / "staging",
                              deid_context)
    assert outcome.status == "quarantined"
    assert list((tmp_path / "staging").iterdir()) == []


def test_non_dicom_and_damaged_files_are_unreadable_not_fatal(tmp_path, ct_file, deid_context):
    text = tmp_path / "notes.txt"
    text.write_text("Patient FAKENHAM seen on ward 3\n")
    damaged = tmp_path / "damaged"
    damaged.write_bytes(ct_file.read_bytes()[:-100])  # a copy cut short in the pixel data
    missing = tmp_path / "gone.dcm"
    outcomes = [deidentify_file(p, tmp_path / "out", deid_context)
                for p in (text, damaged, missing)]
    assert [o.status for o in outcomes] == ["unreadable"] * 3
    assert [o.code for o in outcomes] == ["not_dicom", "truncated", "unreadable_file"]
    assert all("FAKENHAM" not in o.message.upper() for o in outcomes)
    out = tmp_path / "out"
    assert not out.exists() or not any(p.suffix == ".dcm" for p in out.iterdir())


def test_no_temporary_files_are_left_behind(ct_file, tmp_path, deid_context):
    deidentify_file(ct_file, tmp_path / "out", deid_context)
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".dcm"]


def test_dummy_sequences_keep_structure_but_replace_every_text_inside(tmp_path, deid_context,
                                                                      site_keys):
    ds = builders.ct_slice()
    person = builders.code_item("P-7781", "WHITTLESEA GERALD", "99RSH")
    person.ReferencedSOPInstanceUID = builders.uid(5, 5)
    inner = builders.code_item("X1", "Ward 3 FAKENHAM")
    person.ConceptCodeSequence = [inner]
    ds.PersonIdentificationCodeSequence = [person]  # Basic Profile D
    path = builders.write(ds, tmp_path / "src" / "a")
    out = dcmread(deidentify_file(path, tmp_path / "out", deid_context).output)
    item = out.PersonIdentificationCodeSequence[0]
    assert (item.CodeValue, item.CodeMeaning, item.CodingSchemeDesignator) == ("ANONYMOUS",) * 3
    assert item.ReferencedSOPInstanceUID == remap_uid(site_keys, builders.uid(5, 5))
    assert item.ConceptCodeSequence[0].CodeMeaning == "ANONYMOUS"


def test_a_person_name_the_table_does_not_list_is_emptied(tmp_path, deid_context):
    ds = builders.ct_slice()
    ds.EvaluatorName = "WHITTLESEA^GERALD"  # (0014,2006) PN, not in Table E.1-1
    ds.add_new(0x00760010, "PN", "OKONKWO-BRANDT^IFEOMA")  # a public tag pydicom does not know
    outcome = deidentify_file(builders.write(ds, tmp_path / "src" / "a"), tmp_path / "out",
                              deid_context)
    assert outcome.status == "deidentified", outcome.message
    out = dcmread(outcome.output)
    assert "EvaluatorName" in out and not out.EvaluatorName
    assert 0x00760010 in out and not out[0x00760010].value
    data = outcome.output.read_bytes().upper()
    assert b"WHITTLESEA" not in data and b"OKONKWO" not in data
