"""A different image under an identifier this workstation already sent or queued is held back
with its own reason (never sent as the first, never silently dropped as "already sent"); the
same image sent again is still one image. Checked against the real collection service."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop.cli import main
from nccid_desktop.dicom.scan.model import HOLD_REASONS
from nccid_desktop.pseudonym import remap_uid
from nccid_desktop.tasks import NEVER_CANCELLED, no_progress
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.workflows.image_selection import (
    UID_HELD_BY_SERVICE,
    choose,
    scan_and_ask,
    sheet_windows,
)
from nccid_desktop.workflows.send_job import UID_IN_OUTBOX, SendJob
from nccid_desktop.workflows.work_folders import WorkFolders
from tests.dicom.builders import ct_slice, write
from tests.workflows.send_setup import export, patient, selection_of, sheet, stored

SLICES = 3


def _send(tmp_path: Path, pacs: Path, seeds: list[int], keys, client, outbox: Outbox):
    selection = selection_of([pacs], sheet(tmp_path / f"status{seeds[0]}.xlsx", seeds), keys,
                             client)
    job = SendJob.plan_send(selection, keys, "hospital", client, outbox,
                            WorkFolders.under(tmp_path / "data"))
    job.task(no_progress, NEVER_CANCELLED)
    return job


def _clashing_export(folder: Path, seed: int, source_uid: str) -> Path:
    """One slice of another patient whose SOP Instance UID is ``source_uid`` (a re-export,
    a vendor bug), beside slices of their own."""
    export(folder, [seed], SLICES)
    ds = ct_slice(instance=SLICES + 1, patient=patient(seed), series=seed, rows=32, columns=32)
    ds.SOPInstanceUID = source_uid
    ds.file_meta.MediaStorageSOPInstanceUID = source_uid
    write(ds, folder / f"EXPORTED{seed}" / "IM_CLASH.dcm")
    return folder


def test_an_identifier_the_service_holds_for_another_patient_is_held_back_at_the_scan(
        tmp_path, collector, client, keys) -> None:
    outbox = Outbox(tmp_path / "data" / "outbox")
    first = export(tmp_path / "pacs1", [961], SLICES)
    before = stored(collector)
    _send(tmp_path, first, [961], keys, client, outbox)
    source_uid = ct_slice(instance=1, patient=patient(961), series=961).SOPInstanceUID
    assert remap_uid(keys, source_uid) in stored(collector)

    second = _clashing_export(tmp_path / "pacs2", 962, source_uid)
    selection = selection_of([second], sheet(tmp_path / "s962.xlsx", [962]), keys, client)
    [decision] = selection.included
    held = [f for f in decision.series.files if f.hold]
    assert [f.hold for f in held] == [UID_HELD_BY_SERVICE]
    assert len(decision.files) == SLICES, "never taken as already uploaded, never sent"
    job = _send(tmp_path, second, [962], keys, client, outbox)
    assert job.images_sent == SLICES
    new = [u for u in stored(collector) if u not in set(before)]
    assert len(new) == len(set(new)) == 2 * SLICES
    outbox.close()


def test_the_service_refuses_an_identifier_held_for_another_patient(
        tmp_path, collector, client, keys) -> None:
    """Even from a client that did not ask first: refused with its own code, never "already
    held" (the second patient's image would be lost without a word)."""
    outbox = Outbox(tmp_path / "data" / "outbox")
    first = export(tmp_path / "pacs1", [966], SLICES)
    _send(tmp_path, first, [966], keys, client, outbox)
    source_uid = ct_slice(instance=1, patient=patient(966), series=966).SOPInstanceUID
    second = _clashing_export(tmp_path / "pacs2", 967, source_uid)
    scanned = scan_and_ask([second], keys, None, workers=1)  # the service not asked
    selection = choose(scanned, keys, "hospital",
                       sheet_windows([sheet(tmp_path / "s967.xlsx", [967])], keys, "hospital"))
    other = Outbox(tmp_path / "other-workstation" / "outbox")
    job = SendJob.plan_send(selection, keys, "hospital", client, other,
                            WorkFolders.under(tmp_path / "other-workstation"))
    job.task(no_progress, NEVER_CANCELLED)
    assert job.upload.failed == 1
    assert any("already held under this SOP Instance UID" in p for p in job.upload.problems)
    assert job.images_sent == SLICES
    outbox.close()
    other.close()


def test_a_different_image_under_an_identifier_already_in_the_outbox_is_held_back(
        tmp_path, collector, client, keys) -> None:
    """The service not asked (or the first image still queued): the outbox tells the same
    image staged again from a different image under its identifier."""
    outbox = Outbox(tmp_path / "data" / "outbox")
    first = export(tmp_path / "pacs1", [968], SLICES)
    before = stored(collector)
    _send(tmp_path, first, [968], keys, client, outbox)
    source_uid = ct_slice(instance=1, patient=patient(968), series=968).SOPInstanceUID
    second = _clashing_export(tmp_path / "pacs2", 969, source_uid)
    scanned = scan_and_ask([second], keys, None, workers=1)
    selection = choose(scanned, keys, "hospital",
                       sheet_windows([sheet(tmp_path / "s969.xlsx", [969])], keys, "hospital"))
    job = SendJob.plan_send(selection, keys, "hospital", client, outbox,
                            WorkFolders.under(tmp_path / "data"))
    job.task(no_progress, NEVER_CANCELLED)
    [state] = job.series.values()
    assert state.counts["held_back"] == 1
    assert state.reasons[HOLD_REASONS[UID_IN_OUTBOX]] == 1
    assert state.deidentified == SLICES and job.images_sent == SLICES
    assert state.describe() == (f"Sent {SLICES} of {SLICES}; 1 not sent (1 held back): "
                                f"{HOLD_REASONS[UID_IN_OUTBOX]}"), "what Send Images shows"
    assert job.upload.failed == 0, "held back here, not refused by the service"
    new = [u for u in stored(collector) if u not in set(before)]
    assert len(new) == len(set(new)) == 2 * SLICES
    assert outbox.jobs.get(job.job_id).state == "done"
    outbox.close()


def test_the_same_image_sent_again_is_one_image(tmp_path, collector, client, keys) -> None:
    outbox = Outbox(tmp_path / "data" / "outbox")
    pacs = export(tmp_path / "pacs", [963], SLICES)
    before = stored(collector)
    _send(tmp_path, pacs, [963], keys, client, outbox)
    again = SendJob.plan_send(_reselect(tmp_path, pacs, keys, client), keys, "hospital", client,
                              outbox, WorkFolders.under(tmp_path / "data"))
    again.task(no_progress, NEVER_CANCELLED)
    assert all(s.counts["held_back"] == 0 for s in again.series.values())
    assert len([u for u in stored(collector) if u not in set(before)]) == SLICES
    outbox.close()


def _reselect(tmp_path: Path, pacs: Path, keys, client):
    """The same folder chosen again, as if the service had not said it holds the images
    (the outbox is the one that knows)."""
    from dataclasses import replace

    scanned = replace(scan_and_ask([pacs], keys, client, workers=1), uploaded_uids=frozenset())
    return choose(scanned, keys, "hospital",
                  sheet_windows([tmp_path / "status963.xlsx"], keys, "hospital"))


@pytest.fixture
def signed_env(collector, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NCCID_SERVER", collector.url)
    monkeypatch.setenv("NCCID_USER", collector.account.username)
    monkeypatch.setenv("NCCID_PASSWORD", collector.account.password)
    return collector


def test_upload_images_says_what_is_held_back_and_the_counts_add_up(tmp_path, signed_env, keys,
                                                              capsys) -> None:
    first = export(tmp_path / "pacs1", [964], SLICES)
    assert main(["upload", "images", str(first), "--sheet",
                 str(sheet(tmp_path / "s1.xlsx", [964]))]) == 0
    capsys.readouterr()
    source_uid = ct_slice(instance=2, patient=patient(964), series=964).SOPInstanceUID
    second = _clashing_export(tmp_path / "pacs2", 965, source_uid)
    assert main(["upload", "images", str(second), "--sheet",
                 str(sheet(tmp_path / "s2.xlsx", [965]))]) == 0
    out = capsys.readouterr().out
    assert f"Selected 1 series ({SLICES + 1} images) to send." not in out
    assert f"Held back 1 image (never sent): {HOLD_REASONS[UID_HELD_BY_SERVICE]}" in out, out
    assert "already uploaded" not in out
    assert f"Images: {SLICES} stored, 0 already held." in out, out
