"""The outbox journal: staging is idempotent, batches resume, finished work leaves no files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nccid_desktop.errors import DicomError
from nccid_desktop.paths import user_data_dir
from nccid_desktop.transport.outbox import OUTBOX_FOLDER, Outbox
from tests.transport.payloads import status_envelope, write_instance


def test_journal_lives_in_the_users_data_folder_in_wal_mode() -> None:
    outbox = Outbox()
    journal = user_data_dir() / OUTBOX_FOLDER / "outbox.sqlite3"
    assert journal.exists()
    mode = sqlite3.connect(journal).execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)
    outbox.close()


def test_staging_the_same_record_twice_queues_it_once(site_keys) -> None:
    outbox = Outbox()
    envelope = status_envelope(site_keys, 1)
    assert outbox.stage_record(envelope) == "staged"
    assert outbox.stage_record(envelope) == "already-queued"
    assert outbox.count_pending() == 1
    assert len(list(outbox.staging.glob("records/*"))) == 1


def test_a_changed_record_replaces_the_queued_one(site_keys) -> None:
    outbox = Outbox()
    outbox.stage_record(status_envelope(site_keys, 1, swab_status="0"))
    assert outbox.stage_record(status_envelope(site_keys, 1, swab_status="1")) == "replaced"
    states = [(i.state, i.reason) for i in outbox.items()]
    assert states[0][0] == "failed" and "newer version" in states[0][1]
    assert states[1] == ("staged", None)
    assert len(list(outbox.staging.glob("records/*"))) == 1


def test_a_sent_batch_is_offered_again_until_it_is_answered(site_keys) -> None:
    outbox = Outbox()
    for n in range(5):
        outbox.stage_record(status_envelope(site_keys, n))
    first = outbox.next_batch("record", max_count=3)
    assert first is not None and len(first.items) == 3
    again = Outbox(outbox.folder).next_batch("record", max_count=3)
    assert again is not None and again.batch_id == first.batch_id
    assert [i.id for i in again.items] == [i.id for i in first.items]
    outbox.acknowledge([i.id for i in first.items])
    second = outbox.next_batch("record", max_count=3)
    assert second is not None and second.batch_id != first.batch_id and len(second.items) == 2


def test_image_batches_are_bounded_by_bytes(tmp_path: Path, site_keys) -> None:
    outbox = Outbox()
    for n in range(4):
        uid, path = write_instance(tmp_path, "Covid0000000000000001", index=n)
        outbox.stage_image(uid, "Covid0000000000000001", path)
    size = outbox.items()[0].size
    batch = outbox.next_batch("image", max_count=10, max_bytes=2 * size + 1)
    assert batch is not None and len(batch.items) == 2


def test_acknowledged_and_refused_items_leave_no_staging_files(tmp_path: Path, site_keys) -> None:
    outbox = Outbox()
    uid, path = write_instance(tmp_path, "Covid0000000000000001")
    outbox.stage_image(uid, "Covid0000000000000001", path)
    outbox.stage_record(status_envelope(site_keys, 1))
    batch = outbox.next_batch("image", 10)
    assert batch is not None
    outbox.acknowledge([batch.items[0].id])
    record = outbox.next_batch("record", 10)
    assert record is not None
    outbox.fail(record.items[0].id, "Row 3: refused")
    assert list(outbox.staging.glob("*/*")) == []
    assert path.exists(), "the caller's file is copied, not taken"
    assert outbox.stage_image(uid, "Covid0000000000000001", path) == "already-sent"


def test_recover_removes_orphans_and_leftovers(tmp_path: Path, site_keys) -> None:
    outbox = Outbox()
    outbox.stage_record(status_envelope(site_keys, 1))
    orphan = outbox.staging / "images" / "half-written.dcm.part"
    orphan.write_bytes(b"partial")
    acked = outbox.next_batch("record", 10)
    assert acked is not None
    outbox.acknowledge([acked.items[0].id])
    acked.items[0].staging_path.write_bytes(b"{}")  # as if killed before the delete
    outbox.stage_record(status_envelope(site_keys, 2))
    assert outbox.recover() == 1
    assert [p.parent.name for p in outbox.staging.glob("*/*")] == ["records"]


def test_the_journal_holds_no_identifiers(tmp_path: Path, site_keys) -> None:
    outbox = Outbox()
    envelope = status_envelope(site_keys, 7)
    outbox.stage_record(envelope)
    batch = outbox.next_batch("record", 10)
    assert batch is not None
    outbox.fail(batch.items[0].id, "Row 9: the value 943 476 5919 looks like an NHS number")
    outbox.close()
    raw = b"".join(p.read_bytes() for p in outbox.folder.glob("outbox.sqlite3*"))
    assert b"9434765919" not in raw and b"943 476 5919" not in raw
    assert b"RR00000007" not in raw
    assert envelope.pseudonym.encode() in raw


def test_a_deidentified_copy_cut_short_is_refused_not_queued(tmp_path: Path) -> None:
    outbox = Outbox()
    uid, path = write_instance(tmp_path, "Covid0000000000000001", index=0)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size - 100)
    with pytest.raises(DicomError, match="incomplete"):
        outbox.stage_image(uid, "Covid0000000000000001", path, expected_size=size)
    assert outbox.items() == []
    assert outbox.stage_image(uid, "Covid0000000000000001", path,
                              expected_size=size - 100) == "staged"
    outbox.close()
