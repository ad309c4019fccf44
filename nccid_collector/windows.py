"""The clinical date windows of a site's patients, as the records the service holds say.

Why the service answers this: a PACS user sending images may never have seen the sheet the
nurse uploaded, yet the selection rules need each patient's swab or test date to pick the
images NCCID wants. The service holds those records, so it reads the newest version of each
(pseudonym, kind) and applies the one window rule (:func:`window_from_record`, shared with
the workstation), answering pseudonyms and dates only.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select

from nccid_collector.db import clinical_records
from nccid_desktop.dicom.select.clinical_windows import window_from_record
from nccid_desktop.records import ClinicalEnvelope


def site_windows(db: Engine, site: str) -> list[dict[str, Any]]:
    """``[{"pseudonym", "windows": [{"kind", "test_date"}]}]``, one entry per patient.

    A patient whose records carry no usable date has an empty ``windows`` list: linked, but
    its date window cannot be checked (the selection rules say so).
    """
    newest: dict[tuple[str, str], str] = {}
    query = (select(clinical_records.c.pseudonym, clinical_records.c.kind,
                    clinical_records.c.content)
             .where(clinical_records.c.site == site).order_by(clinical_records.c.id))
    with db.connect() as conn:
        for row in conn.execute(query):
            newest[(row.pseudonym, row.kind)] = row.content
    by_patient: dict[str, list[dict[str, str]]] = {}
    for (pseudonym, kind), content in sorted(newest.items()):
        envelope = ClinicalEnvelope(kind=kind, pseudonym=pseudonym, site=site,  # type: ignore[arg-type]
                                    record=json.loads(content))
        window = window_from_record(envelope)
        found = by_patient.setdefault(pseudonym, [])
        if window is not None:
            found.append({"kind": window.kind, "test_date": window.test_date.isoformat()})
    return [{"pseudonym": p, "windows": w} for p, w in by_patient.items()]
