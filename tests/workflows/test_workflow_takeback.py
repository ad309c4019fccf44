"""Opt-outs, withdrawal and study removal through the workflows both front ends run, against
the real collection service on loopback: what is left out never reaches the service, the
journal or a log; what is withdrawn or removed leaves the warehouse."""

from __future__ import annotations

import logging
from pathlib import Path

import pydicom
import pytest

from nccid_desktop.logsafe import configure_logging
from nccid_desktop.optouts import load_opt_out_list
from nccid_desktop.paths import user_data_dir, user_log_dir
from nccid_desktop.pseudonym import pseudonym_for, remap_uid
from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.uk_dates import uk_prose_of
from nccid_desktop.workflows.image_selection import choose, scan_and_ask, sheet_windows
from nccid_desktop.workflows.opt_outs import OptOutSelection
from nccid_desktop.workflows.send_job import SendJob
from nccid_desktop.workflows.sheet_check import check_sheet
from nccid_desktop.workflows.sheet_upload import upload_sheet
from nccid_desktop.workflows.takeback import (
    preview_withdrawal,
    remove_studies,
    withdraw_patient,
)
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.sheets.builders import hospital_number, nhs_number
from tests.support.planted import leaks_in_folder, nhs_spellings
from tests.workflows.send_setup import export, sheet, stored


@pytest.fixture
def logs():
    configure_logging(user_log_dir(), logging.DEBUG)
    yield
    configure_logging(None)


def _opt_out_file(path: Path, seeds: list[int]) -> Path:
    path.write_text("NHS/CHI Number,Date opted out\n"
                    + "".join(f"{nhs_number(s)},2026-11-01\n" for s in seeds))
    return path


def _leaks(seeds: list[int]) -> dict[str, list[str]]:
    planted = [v for s in seeds for v in [*nhs_spellings(nhs_number(s)), hospital_number(s)]]
    found = {f"data/{k}": v for k, v in leaks_in_folder(user_data_dir(), planted).items()
             if not k.startswith("quarantine")}
    found.update({f"logs/{k}": v for k, v in leaks_in_folder(user_log_dir(), planted).items()})
    return found


def _send(selection, keys, client) -> SendJob:
    job = SendJob.plan_send(selection, keys, "hospital", client, Outbox(),
                            WorkFolders.under(user_data_dir()))
    job.task(no_progress, NEVER_CANCELLED)
    return job


def test_opted_out_rows_and_images_never_leave_and_unmatched_images_are_held_back(
        tmp_path, collector, client, keys, logs) -> None:
    out, kept, unsheeted = 1301, 1302, 1303
    opt_outs = load_opt_out_list(_opt_out_file(tmp_path / "opt-outs.csv", [out]))
    status = sheet(tmp_path / "status.xlsx", [out, kept])
    checked = check_sheet(status, keys=keys, linking="hospital", opt_outs=opt_outs)
    assert checked.opted_out == 1
    assert {e.pseudonym for e in checked.envelopes or ()} == {
        pseudonym_for(keys, hospital_number=hospital_number(kept))}
    outcome = upload_sheet(checked, keys, client, Outbox(), "hospital", opt_outs=opt_outs)
    assert outcome.patients == 1 and outcome.opted_out == 1
    assert "1 patient has opted out" in outcome.message
    records = {p.name for p in collector.raw_files("data")}
    gone = pseudonym_for(keys, hospital_number=hospital_number(out))
    assert f"{pseudonym_for(keys, hospital_number=hospital_number(kept))}_status.json" in records
    assert not any(gone in name for name in records)
    # images: the opted-out patient's are left out, a patient on no sheet here is held back
    pacs = export(tmp_path / "pacs", [out, kept, unsheeted], 2)
    scanned = scan_and_ask([pacs], keys, client, workers=1)
    patients: list = []
    windows = sheet_windows([status], keys, "hospital", opt_outs=opt_outs, patients=patients)
    selection = choose(scanned, keys, "hospital", windows,
                       opt_outs=OptOutSelection.of(opt_outs, keys, "hospital", patients))
    codes = {d.pseudonym: d.code for d in selection.decisions}
    assert codes[gone] == "opted_out"
    assert codes[pseudonym_for(keys, hospital_number=hospital_number(unsheeted))] == \
        "opt_out_unchecked"
    assert codes[pseudonym_for(keys, hospital_number=hospital_number(kept))] == "will_send"
    before = stored(collector)
    _send(selection, keys, client)
    sent = {remap_uid(keys, f.sop_instance_uid) for d in selection.included for f in d.files}
    assert set(stored(collector)) - set(before) == sent and len(sent) == 2
    assert _leaks([out, kept, unsheeted]) == {}


def test_without_an_opt_out_list_the_same_images_would_go(tmp_path, collector, client,
                                                          keys) -> None:
    """The opt-out rule is what held them back above (this fails if the rule does nothing)."""
    pacs = export(tmp_path / "pacs", [1304], 1)
    status = sheet(tmp_path / "status.xlsx", [1304])
    scanned = scan_and_ask([pacs], keys, client, workers=1)
    selection = choose(scanned, keys, "hospital", sheet_windows([status], keys, "hospital"))
    assert [d.code for d in selection.decisions] == ["will_send"]


def test_withdrawal_previews_then_removes_everything_and_later_sends_are_refused(
        tmp_path, collector, client, keys, logs) -> None:
    seed = 1310
    status = sheet(tmp_path / "status.xlsx", [seed])
    upload_sheet(check_sheet(status, keys=keys), keys, client, Outbox())
    pacs = export(tmp_path / "pacs", [seed], 2)
    scanned = scan_and_ask([pacs], keys, client, workers=1)
    _send(choose(scanned, keys, "hospital", sheet_windows([status], keys, "hospital")),
          keys, client)
    pseudonym = pseudonym_for(keys, hospital_number=hospital_number(seed))
    preview = preview_withdrawal(client, keys, nhs_number(seed), "hospital")
    assert (preview.records, preview.studies, preview.images) == (1, 1, 2)
    assert "1 clinical record and 2 images in 1 study" in preview.describe()
    done = withdraw_patient(client, keys, nhs_number(seed), "patient-request", "hospital")
    assert done.images == 2 and done.withdrawn_on
    assert not any(pseudonym in p.name for p in collector.raw_files("data"))
    assert all(pseudonym.encode() not in p.read_bytes() for p in collector.raw_files("images"))
    again = upload_sheet(check_sheet(status, keys=keys), keys, client, Outbox())
    assert again.upload.records_stored == 0
    assert f"withdrawn on {uk_prose_of(done.withdrawn_on)}" in again.upload.problems[0]
    assert preview_withdrawal(client, keys, nhs_number(seed), "hospital").withdrawn_on == \
        done.withdrawn_on
    assert _leaks([seed]) == {}


def test_removing_a_study_by_its_folder_tells_the_service_only_the_deidentified_uid(
        tmp_path, collector, client, keys) -> None:
    seed = 1320
    status = sheet(tmp_path / "status.xlsx", [seed])
    upload_sheet(check_sheet(status, keys=keys), keys, client, Outbox())
    pacs = export(tmp_path / "pacs", [seed], 3)
    for path in pacs.rglob("*.dcm"):  # a study of its own (the builders share one study UID)
        dataset = pydicom.dcmread(path)
        dataset.StudyInstanceUID = f"1.2.826.0.1.3680043.10.{seed}"
        dataset.save_as(path)
    scanned = scan_and_ask([pacs], keys, client, workers=1)
    selection = choose(scanned, keys, "hospital", sheet_windows([status], keys, "hospital"))
    _send(selection, keys, client)
    sent = {remap_uid(keys, f.sop_instance_uid) for d in selection.included for f in d.files}
    before = stored(collector)
    assert sent <= set(before)
    assert remove_studies(client, keys, str(pacs / f"EXPORTED{seed}")) == 3
    assert sorted(stored(collector)) == sorted(set(before) - sent)
    assert not sent & {p.stem for p in collector.raw_files("images")}
