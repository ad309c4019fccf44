"""The audit trail: who did what, for which site, how many items, and how it ended.

Why so few columns: an audit row must be safe to show to any administrator and to keep for
years, so it records only staff user names, site codes, action names, counts and outcomes;
never a pseudonym list, a file name or anything a patient could be recognised from. Unknown
user names at sign-in are recorded as ``(unknown)``: people sometimes type other things there.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, insert, select

from nccid_collector.db import audit

log = logging.getLogger(__name__)
UNKNOWN_USER = "(unknown)"


def record(db: Engine | Connection, at: int, username: str, site: str | None, action: str,
           outcome: str, count: int = 0) -> None:
    row = {"at": at, "username": username[:64], "site": site, "action": action,
           "count": count, "outcome": outcome}
    if isinstance(db, Engine):
        with db.begin() as conn:
            conn.execute(insert(audit).values(**row))
    else:
        db.execute(insert(audit).values(**row))
    log.info("audit user=%s site=%s action=%s count=%d outcome=%s",
             row["username"], site, action, count, outcome)


def entries(db: Engine, site: str | None = None) -> list[dict]:
    """Audit rows, oldest first (all sites when ``site`` is None: administrators' CLI only)."""
    query = select(audit).order_by(audit.c.id)
    if site is not None:
        query = query.where(audit.c.site == site)
    with db.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
