"""The audit trail: who did what, for which site, how many items, how it ended, and every refusal.

Why so few columns: an audit row must be safe to show to any administrator and to keep for
years, so it records only staff user names, site codes, action names, counts and outcomes;
for a refusal also the route, the reason (a rule and the attribute or field it concerns:
``identifying_attribute:OtherPatientIDs``, never a value) and the source address. Never a
pseudonym list, a file name or anything a patient could be recognised from. User names that
match no account are recorded as ``(unknown)``: people sometimes type other things there.

Why refusals are rate-limited: a flood of bad requests (a broken client retrying, a scanner)
must not fill the disk. The same refusal (user, site, action, route, reason, address) within
a minute updates one row's ``occurrences`` and ``last_at`` instead of adding rows, and one
address may add at most :data:`MAX_NEW_ROWS_PER_WINDOW` rows a minute; beyond that its
refusals are counted on a single ``flood`` row. Only a new row is also written to the log.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, insert, select, update

from nccid_collector.db import audit

log = logging.getLogger(__name__)
UNKNOWN_USER = "(unknown)"
REFUSED = "refused"
FLOOD = "flood"
WINDOW_SECONDS = 60
MAX_NEW_ROWS_PER_WINDOW = 200
MAX_NEW_ROWS_PER_WINDOW_ALL = 2000


def record(db: Engine | Connection, at: int, username: str, site: str | None, action: str,
           outcome: str, count: int = 0, *, reason: str | None = None) -> None:
    row = {"at": at, "username": username[:64], "site": site, "action": action[:40],
           "count": count, "outcome": outcome[:40], "reason": reason[:120] if reason else None}
    if isinstance(db, Engine):
        with db.begin() as conn:
            conn.execute(insert(audit).values(**row))
    else:
        db.execute(insert(audit).values(**row))
    log.info("audit user=%s site=%s action=%s count=%d outcome=%s",
             row["username"], site, action, count, outcome)


@dataclass
class _Window:
    """The refusal rows written in the current minute, by what makes them the same."""

    started: float = -1.0
    rows: dict[tuple, int] = field(default_factory=dict)
    new_rows: Counter[str | None] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def roll(self, at: int) -> None:
        if at - self.started >= WINDOW_SECONDS or at < self.started:
            self.started = at
            self.rows.clear()
            self.new_rows.clear()


_windows: weakref.WeakKeyDictionary[Engine, _Window] = weakref.WeakKeyDictionary()
_windows_lock = threading.Lock()


def _window(db: Engine) -> _Window:
    with _windows_lock:
        window = _windows.get(db)
        if window is None:
            window = _windows[db] = _Window()
        return window


def refusal(db: Engine, at: int, username: str | None, site: str | None, action: str,
            reason: str, *, route: str, address: str | None) -> None:
    """Audit one refusal, or count it on the row of the same refusal this minute."""
    user = (username or UNKNOWN_USER)[:64]
    address = address[:64] if address else None
    window = _window(db)
    with window.lock:
        window.roll(at)
        key: tuple = (user, site, action, route, reason, address)
        row_id = window.rows.get(key)
        if row_id is None and (window.new_rows[address] >= MAX_NEW_ROWS_PER_WINDOW
                               or sum(window.new_rows.values()) >= MAX_NEW_ROWS_PER_WINDOW_ALL):
            key = (UNKNOWN_USER, None, "request", "(many)", FLOOD, address)
            row_id = window.rows.get(key)
        with db.begin() as conn:
            if row_id is not None:
                conn.execute(update(audit).where(audit.c.id == row_id).values(
                    occurrences=audit.c.occurrences + 1, last_at=at))
                return
            row_id = conn.execute(insert(audit).values(
                at=at, username=key[0], site=key[1], action=key[2][:40], count=0,
                outcome=REFUSED, route=key[3][:80], reason=key[4][:120], address=address,
                occurrences=1, last_at=at).returning(audit.c.id)).scalar_one()
        window.rows[key] = row_id
        window.new_rows[address] += 1
    log.info("audit refused user=%s site=%s action=%s route=%s reason=%s address=%s",
             key[0], key[1], key[2], key[3], key[4], address)


def entries(db: Engine, site: str | None = None, *, username: str | None = None,
            kind: str | None = None, since: int | None = None) -> list[dict]:
    """Audit rows, oldest first, filtered (all sites when ``site`` is None: administrators'
    CLI only). ``kind`` matches an action (``sign_in``, ``stow`` ...) or an outcome
    (``refused``, ``ok``, ``bad_credentials`` ...); ``since`` is an epoch second."""
    query = select(audit).order_by(audit.c.id)
    if site is not None:
        query = query.where(audit.c.site == site)
    if username is not None:
        query = query.where(audit.c.username == username)
    if kind is not None:
        query = query.where((audit.c.action == kind) | (audit.c.outcome == kind))
    if since is not None:
        query = query.where((audit.c.at >= since) | (audit.c.last_at >= since))
    with db.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
