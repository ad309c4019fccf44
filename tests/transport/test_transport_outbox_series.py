"""The outbox journals each image's de-identified study, series and modality, and nothing of the
source; journals from before those columns existed open, migrate and still send."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pydicom

from nccid_desktop.pseudonym import pseudonym_from_linking_value, remap_uid
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.staged_series import StagedSeries, read_staged_series
from tests.transport.deidentified_series import (
    HOSPITAL_NUMBER,
    PATIENT_NAME,
    SOURCE_FOLDER,
    deidentify,
    stage,
    write_source_series,
)
from tests.transport.payloads import write_instance

#: The journal's table as it was before images recorded their series (commit d0d00b0).
OLD_SCHEMA = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('record', 'image')),
    item_key TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    staging_path TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('staged', 'sent', 'acknowledged', 'failed')),
    reason TEXT,
    batch_id TEXT,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX items_one_pending ON items (kind, item_key) WHERE state IN ('staged', 'sent');
CREATE INDEX items_by_state ON items (kind, state, id);
"""


def _columns(folder: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    db = sqlite3.connect(folder / "outbox.sqlite3")
    try:
        return {row[0]: row[1:] for row in db.execute(
            "SELECT item_key, study_uid, series_uid, modality FROM items WHERE kind = 'image'")}
    finally:
        db.close()


def test_staged_images_record_their_deidentified_study_series_and_modality(tmp_path, site_keys):
    series = write_source_series(tmp_path, {"CT": 3, "DX": 2})
    outcomes = deidentify(series, site_keys, tmp_path / "work")
    outbox = Outbox()
    stage(outbox, outcomes)
    outbox.close()
    recorded = _columns(outbox.folder)
    expected_modalities = ["CT"] * 3 + ["DX"] * 2
    for outcome, modality in zip(outcomes, expected_modalities, strict=True):
        study, series_uid, journalled_modality = recorded[outcome.sop_instance_uid or ""]
        staged = pydicom.dcmread(next(p for p in outbox.staging.glob("images/*.dcm")
                                      if pydicom.dcmread(p, stop_before_pixels=True)
                                      .SOPInstanceUID == outcome.sop_instance_uid),
                                 stop_before_pixels=True)
        assert (study, series_uid, journalled_modality) == (
            staged.StudyInstanceUID, staged.SeriesInstanceUID, modality)
        assert study == remap_uid(site_keys, series[0].study_uid)
    assert {recorded[o.sop_instance_uid or ""][1] for o in outcomes} == {
        remap_uid(site_keys, s.series_uid) for s in series}


def test_grouped_counts_follow_each_image_to_its_latest_state(tmp_path, site_keys):
    series = write_source_series(tmp_path, {"CT": 4, "CR": 2})
    outbox = Outbox()
    stage(outbox, deidentify(series, site_keys, tmp_path / "work"))
    pseudonym = pseudonym_from_linking_value(site_keys, "hospital", HOSPITAL_NUMBER)
    ct, cr = (remap_uid(site_keys, s.series_uid) for s in series)
    counts = outbox.image_series()
    assert [(c.pseudonym, c.series_uid, c.modality, c.pending, c.sent, c.refused, c.total)
            for c in counts] == [(pseudonym, ct, "CT", 4, 0, 0, 4), (pseudonym, cr, "CR", 2, 0, 0, 2)]
    assert {c.study_uid for c in counts} == {remap_uid(site_keys, series[0].study_uid)}

    batch = outbox.next_batch("image", 5)  # the 4 CT images and the first CR image
    assert batch is not None and len(batch.items) == 5
    outbox.acknowledge([i.id for i in batch.items[:4]])
    outbox.fail(batch.items[4].id, "The service could not read this image.")
    assert [(c.modality, c.pending, c.sent, c.refused) for c in outbox.image_series()] == [
        ("CR", 1, 0, 1)], "a finished series is not pending any more"
    assert [(c.modality, c.pending, c.sent, c.refused, c.total)
            for c in outbox.image_series(pending_only=False)] == [
        ("CT", 0, 4, 0, 4), ("CR", 1, 0, 1, 2)]

    refused = batch.items[4]
    again = tmp_path / "again.dcm"
    again.write_bytes(b"x")  # not DICOM: its series cannot be read
    outbox.stage_image(refused.item_key, refused.pseudonym, again,
                       series=StagedSeries(counts[0].study_uid, cr, "CR"))
    assert [(c.modality, c.pending, c.sent, c.refused, c.total)
            for c in outbox.image_series()] == [("CR", 2, 0, 0, 2)], \
        "an image queued again after a refusal counts once, in its new state"
    outbox.close()


def test_the_journal_holds_no_source_uid_name_number_or_path(tmp_path, site_keys):
    series = write_source_series(tmp_path, {"CT": 2, "DX": 1})
    outbox = Outbox()
    stage(outbox, deidentify(series, site_keys, tmp_path / "work"))
    batch = outbox.next_batch("image", 1)
    assert batch is not None
    outbox.acknowledge([batch.items[0].id])
    outbox.close()
    raw = b"".join(p.read_bytes() for p in outbox.folder.glob("outbox.sqlite3*"))
    assert len(raw) > 4096
    forbidden = [HOSPITAL_NUMBER, PATIENT_NAME, "PEMBERTON", SOURCE_FOLDER, str(tmp_path),
                 series[0].study_uid] + [s.series_uid for s in series]
    forbidden += [pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID
                  for s in series for p in s.files]
    assert [value for value in forbidden if value.encode() in raw] == []
    assert remap_uid(site_keys, series[0].series_uid).encode() in raw


def test_values_not_in_the_deidentified_form_are_never_journalled(tmp_path):
    """Fail closed: a file staged by mistake (source UIDs) leaves its series unknown."""
    uid, path = write_instance(tmp_path, "Covid0000000000000001")
    source_study = str(pydicom.dcmread(path).StudyInstanceUID)
    assert read_staged_series(path) == StagedSeries(None, None, "CT")
    outbox = Outbox()
    outbox.stage_image(uid, "Covid0000000000000001", path,
                       series=StagedSeries(source_study, "2.25.12", "ct; DROP"))
    outbox.close()
    assert _columns(outbox.folder) == {uid: (None, "2.25.12", None)}
    assert source_study.encode() not in b"".join(
        p.read_bytes() for p in outbox.folder.glob("outbox.sqlite3*"))


def test_an_outbox_from_before_series_were_recorded_opens_migrates_and_sends(tmp_path, site_keys):
    folder = tmp_path / "old-outbox"
    (folder / "staging" / "images").mkdir(parents=True)
    old_file = folder / "staging" / "images" / "old.dcm"
    old_file.write_bytes(b"queued by an earlier version")
    db = sqlite3.connect(folder / "outbox.sqlite3")
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO items (kind, item_key, pseudonym, staging_path, size, content_hash, "
               "state, updated_at) VALUES ('image', '2.25.99', 'Covid0000000000000007', ?, 28, "
               "'2.25.99', 'staged', '2026-11-01T10:00:00+00:00')", (str(old_file),))
    db.commit()
    db.close()

    outbox = Outbox(folder)
    assert [(c.pseudonym, c.study_uid, c.series_uid, c.modality, c.pending)
            for c in outbox.image_series()] == [
        ("Covid0000000000000007", None, None, None, 1)], "old rows: series not known (NULL)"
    stage(outbox, deidentify(write_source_series(tmp_path, {"CT": 2}), site_keys,
                             tmp_path / "work"))
    assert [(c.series_uid is None, c.modality, c.pending) for c in outbox.image_series()] == [
        (True, None, 1), (False, "CT", 2)]
    batch = outbox.next_batch("image", 10)
    assert batch is not None and batch.items[0].item_key == "2.25.99"
    outbox.acknowledge([i.id for i in batch.items])
    assert outbox.image_series() == []
    outbox.close()
    assert Outbox(folder).count_pending() == 0, "a migrated journal opens again as it is"
