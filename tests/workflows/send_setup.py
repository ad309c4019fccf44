"""PACS exports, the sheet that links them, and the service-side check that each image is held once.

Importable as ``tests.workflows.send_setup`` (by the tests and by the child processes the crash
tests kill). Patients are numbered by ``seed``; each test uses its own seeds, so tests sharing
one service never share an image.
"""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import remap_uid
from nccid_desktop.sheets.definitions import STATUS
from nccid_desktop.workflows.image_selection import choose, scan_and_ask, sheet_windows
from tests.dicom.builders import PATIENT, ct_slice, write
from tests.sheets.builders import hospital_number, nhs_number, save_workbook, status_row

#: The builders' images are dated 2020-11-03: the four weeks before a swab of 2020-11-05.
SWAB_NEAR_THE_IMAGES = datetime(2020, 11, 5)


def patient(seed: int):
    return replace(PATIENT, hospital_number=hospital_number(seed), nhs_number=nhs_number(seed),
                   name=f"EXPORTED{seed}^PATIENT")


def export(folder: Path, seeds: list[int], slices: int, *, folder_name=None) -> Path:
    """A CT series of ``slices`` per patient, each in a folder named like a PACS export's."""
    for seed in seeds:
        name = folder_name(seed) if folder_name else f"EXPORTED{seed}"
        for instance in range(1, slices + 1):
            write(ct_slice(instance=instance, patient=patient(seed), series=seed, rows=32,
                           columns=32), folder / name / f"IM{instance:04d}.dcm")
    return folder


def zipped(folder: Path, archive: Path) -> Path:
    """The export as one ``.zip`` (how exports often arrive), the folder removed."""
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*.dcm")):
            out.write(path, path.relative_to(folder).as_posix())
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    return archive


def sheet(path: Path, seeds: list[int]) -> Path:
    return save_workbook(path, STATUS, [status_row(s, SwabDate=SWAB_NEAR_THE_IMAGES)
                                        for s in seeds])


def selection_of(paths: list[Path], sheet_path: Path, keys: SiteKeys, client) -> Selection:
    """What Send Images and ``nccid upload images --sheet`` choose for ``paths``."""
    scanned = scan_and_ask(paths, keys, client, workers=1)
    return choose(scanned, keys, "hospital", sheet_windows([sheet_path], keys, "hospital"))


def expected_uids(selection: Selection, keys: SiteKeys) -> set[str]:
    """The de-identified SOP Instance UIDs of every selected image."""
    return {remap_uid(keys, f.sop_instance_uid) for d in selection.included for f in d.files}


def stored(collector) -> list[str]:
    """Every SOP Instance UID the service's database holds, one entry per row."""
    from nccid_collector.db import images

    embedded = getattr(collector, "embedded", None) or collector.service  # GUI's or transport's
    with embedded.service.db.connect() as connection:
        return list(connection.execute(select(images.c.sop_instance_uid)).scalars())


def assert_held_once(collector, expected: set[str], before: list[str]) -> None:
    """Service side: each expected image is in the database and the warehouse exactly once,
    and nothing else arrived since ``before``."""
    rows = stored(collector)
    new = [uid for uid in rows if uid not in set(before)]
    assert sorted(new) == sorted(expected), "every selected image stored, once, nothing else"
    files = [p.stem for p in collector.raw_files("images")]
    assert len(files) == len(set(files)) == len(rows)
    assert expected <= set(files)
