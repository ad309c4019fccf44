"""The NHS/CHI checker and the site summary: what has the service received?

Why keyed hashes: the nurse types or pastes NHS/CHI numbers on the workstation, which turns
each into its NHS index (a keyed hash under the site's key) before asking. The service links
indexes to pseudonyms through the clinical records and counts what arrived for each, so the
answer is useful without a number ever crossing the network. Each received study is listed by
its de-identified StudyInstanceUID, so the app can offer to remove a wrongly linked one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, distinct, func, select

from nccid_collector.db import clinical_records, images, sites

RECENT_ENTRIES = 10


def _date(epoch: int | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d") if epoch else None


def check_indexes(db: Engine, site: str, nhs_indexes: list[str]) -> list[dict[str, Any]]:
    answers: dict[str, dict[str, Any]] = {}
    with db.connect() as conn:
        for index in dict.fromkeys(nhs_indexes):
            received = dict(conn.execute(
                select(clinical_records.c.kind, func.max(clinical_records.c.received_at))
                .where(clinical_records.c.site == site, clinical_records.c.nhs_index == index)
                .group_by(clinical_records.c.kind)).all())
            pseudonyms = select(clinical_records.c.pseudonym).distinct().where(
                clinical_records.c.site == site, clinical_records.c.nhs_index == index)
            studies, count = conn.execute(
                select(func.count(distinct(images.c.study_uid)), func.count(images.c.id))
                .where(images.c.site == site, images.c.complete.is_(True),
                       images.c.pseudonym.in_(pseudonyms))).one()
            held = [{"study_uid": uid, "images": int(n), "received": day}
                    for uid, n, day in conn.execute(
                        select(images.c.study_uid, func.count(images.c.id),
                               func.min(images.c.upload_date))
                        .where(images.c.site == site, images.c.complete.is_(True),
                               images.c.pseudonym.in_(pseudonyms))
                        .group_by(images.c.study_uid).order_by(images.c.study_uid))]
            answers[index] = {"nhs_index": index, "clinical_data": _date(received.get("data")),
                              "status": _date(received.get("status")), "studies": int(studies),
                              "images": int(count), "study_list": held}
    return [answers[index] for index in nhs_indexes]


def summary(db: Engine, site: str) -> dict[str, Any]:
    records = clinical_records.c
    with db.connect() as conn:
        site_name = conn.execute(select(sites.c.name).where(sites.c.code == site)).scalar() or ""
        patients: dict[str, int] = dict(conn.execute(
            select(records.kind, func.count(distinct(records.pseudonym)))
            .where(records.site == site).group_by(records.kind)).all())
        studies, count = conn.execute(
            select(func.count(distinct(images.c.study_uid)), func.count(images.c.id))
            .where(images.c.site == site, images.c.complete.is_(True))).one()
        recent = [
            {"date": day, "kind": kind, "count": int(n)}
            for day, kind, n in conn.execute(
                select(records.upload_date, records.kind, func.count(records.id))
                .where(records.site == site, records.path.is_not(None))
                .group_by(records.upload_date, records.kind))
        ]
        recent += [
            {"date": day, "kind": "images", "count": int(n)}
            for day, n in conn.execute(
                select(images.c.upload_date, func.count(images.c.id))
                .where(images.c.site == site, images.c.complete.is_(True))
                .group_by(images.c.upload_date))
        ]
    recent.sort(key=lambda entry: (entry["date"], entry["kind"]), reverse=True)
    return {"site": site, "site_name": site_name, "patients_data": int(patients.get("data", 0)),
            "patients_status": int(patients.get("status", 0)), "studies": int(studies),
            "images": int(count), "recent": recent[:RECENT_ENTRIES]}
