"""A crash between the database and the file system is finished by the next attempt."""

from __future__ import annotations

import os

import pydicom
from sqlalchemy import select, update

from nccid_collector import start_embedded
from nccid_collector.accounts import Caller
from nccid_collector.db import images
from nccid_collector.intake import check_instance, site_rules
from nccid_collector.stow import InstanceFacts
from nccid_desktop.pseudonym import pseudonym_for
from tests.collector.payloads import dicom_file, envelope
from tests.collector.service_setup import keys_of

TODAY = "2026-11-25"


def _caller(site: str = "RSH") -> Caller:
    return Caller(0, "imager1", site, "", ("imaging",), False)


def _spooled(service, source):
    spool = service.store.spool_file()
    spool.write_bytes(source.read_bytes())
    return spool


def _store(service, source):
    """What the STOW route does with one part: check it, then store what passed."""
    spooled = _spooled(service, source)
    facts = check_instance(spooled, site_rules(service.db, "RSH"))
    assert isinstance(facts, InstanceFacts)
    return service.images.store_part(_caller(), spooled, source.stat().st_size, facts)


def test_a_recorded_instance_without_its_file_is_completed_on_resend(service, tmp_path,
                                                                     warehouse) -> None:
    pseudonym = pseudonym_for(keys_of(service, "RSH"), hospital_number="RR1")
    source = dicom_file(tmp_path / "a.dcm", pseudonym)
    uid = pydicom.dcmread(source).SOPInstanceUID
    first = _store(service, source)
    assert first.stored and first.newly_stored
    stored = f"raw-RSH/{TODAY}/images/{uid}.dcm"
    assert warehouse.keys() == [stored]
    # as if the service died after recording the instance and before publishing its file
    assert service.store.objects.delete(stored)
    assert warehouse.keys() == []
    with service.db.begin() as conn:
        conn.execute(update(images).values(complete=False))
    assert service.images.known("RSH", [uid]) == []
    again = _store(service, source)
    assert again.stored and again.newly_stored
    assert warehouse.read(stored) == source.read_bytes()
    assert service.images.known("RSH", [uid]) == [uid]


def test_a_published_file_whose_row_was_not_finished_is_not_duplicated(service, tmp_path,
                                                                       warehouse) -> None:
    pseudonym = pseudonym_for(keys_of(service, "RSH"), hospital_number="RR1")
    source = dicom_file(tmp_path / "a.dcm", pseudonym)
    _store(service, source)
    with service.db.begin() as conn:  # died after publishing, before marking complete
        conn.execute(update(images).values(complete=False))
    again = _store(service, source)
    assert again.stored
    assert len(warehouse.keys("raw-RSH/*/images/*.dcm")) == len(warehouse.keys()) == 1
    with service.db.connect() as conn:
        assert conn.execute(select(images.c.complete)).scalars().all() == [True]
    assert not list(service.store.spool.iterdir())


def test_a_restart_releases_held_corrections_and_sweeps_stale_spool_files(service, settings,
                                                                          clock, warehouse) -> None:
    keys = keys_of(service, "RSH")
    caller = Caller(0, "nurse1", "RSH", "", ("nurse",), False)
    first = envelope(keys, "RR9", Age="50")
    service.clinical.upload_batch(caller, "b1", [first])
    # today's file is not one of this record's versions (put there by hand): never replaced
    today = service.store.clinical_path("RSH", "2026-11-25", first.pseudonym, "data")
    service.store.objects.replace_bytes(today, b'{"Age": "49"}')
    held = service.clinical.upload_batch(caller, "b2", [envelope(keys, "RR9", Age="51")])
    assert "tomorrow" in held[0]["message"]
    stale, fresh = service.store.spool_file(), service.store.spool_file()
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"an upload in progress")
    clock.advance(days=1)
    os.utime(stale, (clock() - 7200, clock() - 7200))
    os.utime(fresh, (clock() - 60, clock() - 60))
    running = start_embedded(settings.data_dir, settings=settings)
    running.stop()
    assert len(warehouse.keys("raw-RSH/2026-11-26/data/*_data.json")) == 1
    assert not stale.exists() and fresh.exists()
