"""Administration commands: ``set-site``, the account commands, and ``audit``.

Why ``audit`` is a command and not SQL: administrators answer "who was refused, from where,
why?" without database access, and hand a CSV to information governance. Every row is safe to
show (see :mod:`nccid_collector.audit`); a cell a spreadsheet would read as a formula is quoted
anyway. Why every account command ends the user's sessions: a locked or disabled account must
stop at once (:mod:`nccid_collector.account_admin`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from nccid_desktop.errors import ConfigError

Opener = Callable[[argparse.Namespace], Any]


def register_admin_commands(actions: Any, with_storage: Callable[[argparse.ArgumentParser],
                            argparse.ArgumentParser], opener: Opener) -> None:
    """Add the commands to the ``nccid-collector`` parser; ``opener`` opens the service."""
    set_site = with_storage(actions.add_parser(
        "set-site", help="change a site's settings (its hospital-number pattern)"))
    set_site.add_argument("code", help="site code, e.g. RSH")
    set_site.add_argument("--hospital-pattern", required=True, metavar="REGEX",
                          help="the site's hospital-number pattern, e.g. '^RR\\d{8}$': a value "
                          "holding one is refused in any record field or image text; '' forgets it")
    set_site.set_defaults(handler=partial(_set_site, opener))

    for name, words in ACCOUNT_ACTIONS.items():
        account = with_storage(actions.add_parser(name, help=words[0]))
        account.add_argument("username")
        if name == "lock-user":
            account.add_argument("--minutes", type=int, default=24 * 60,
                                 help="how long (default: a day)")
        account.set_defaults(handler=partial(_account_action, opener))

    trail = with_storage(actions.add_parser(
        "audit", help="list or export the audit trail (CSV, JSON), filtered"))
    trail.add_argument("--user", help="only this user name ('(unknown)' for unknown ones)")
    trail.add_argument("--site", help="only this site code")
    trail.add_argument("--kind", help="an action (sign_in, stow, clinical_upload ...) or an "
                       "outcome (refused, ok, bad_credentials ...)")
    trail.add_argument("--since", help="a date (2026-11-25), a UTC time (2026-11-25T10:30) "
                       "or a span back from now (7d, 12h, 30m)")
    trail.add_argument("--format", choices=("table", "csv", "json"), default="table")
    trail.add_argument("-o", "--output", type=Path, help="write to this file, not the screen")
    trail.set_defaults(handler=partial(_audit, opener))


#: Account commands: (help, what the done message says); each ends the user's sessions.
ACCOUNT_ACTIONS = {
    "lock-user": ("lock an account for a while (its sessions end at once)", "locked"),
    "unlock-user": ("unlock an account locked by wrong passwords or an administrator",
                    "unlocked"),
    "disable-user": ("disable an account until it is enabled (its sessions end at once)",
                     "disabled"),
    "enable-user": ("enable a disabled account (and unlock it)", "enabled"),
}

COLUMNS = ("id", "time", "user", "site", "action", "outcome", "reason", "route", "address",
           "count", "occurrences", "last")
_RELATIVE = re.compile(r"(\d+)\s*([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> int:
    """An epoch second from ``2026-11-25``, ``2026-11-25T10:30[:00][Z]`` (UTC) or a span back
    from now: ``30m``, ``12h``, ``7d``."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return int((now or time.time()) - int(relative[1]) * _UNIT_SECONDS[relative[2]])
    try:
        moment = datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        raise ConfigError("--since must be a date (2026-11-25), a UTC time "
                          "(2026-11-25T10:30) or a span such as 7d, 12h or 30m.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _iso(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if epoch else ""


def rows_for_output(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": e["id"], "time": _iso(e["at"]), "user": e["username"], "site": e["site"],
             "action": e["action"], "outcome": e["outcome"], "reason": e.get("reason"),
             "route": e.get("route"), "address": e.get("address"), "count": e["count"],
             "occurrences": e.get("occurrences") or 1, "last": _iso(e.get("last_at") or e["at"])}
            for e in entries]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def render(rows: list[dict[str, Any]], form: str) -> str:
    if form == "json":
        return json.dumps(rows, indent=2) + "\n"
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([_cell(row[c]) for c in COLUMNS] for row in rows)
        return buffer.getvalue()
    shown = ("time", "user", "site", "action", "outcome", "reason", "address", "occurrences")
    widths = {c: max([len(c), *(len(str(r[c] or "")) for r in rows)]) for c in shown}
    lines = ["  ".join(c.ljust(widths[c]) for c in shown)]
    lines += ["  ".join(str(r[c] or "").ljust(widths[c]) for c in shown) for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"The file {output.name} cannot be written.") from exc


def _set_site(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector.intake import set_hospital_pattern
    from nccid_desktop.keys import check_site_code

    code = check_site_code(args.code)
    service = opener(args)
    try:
        set_hospital_pattern(service.db, code, args.hospital_pattern.strip() or None)
    finally:
        service.close()
    print(f"Site {code}: hospital-number pattern "
          + ("forgotten." if not args.hospital_pattern.strip() else "set."))
    return 0


def _account_action(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector import account_admin

    service = opener(args)
    try:
        if args.collector_command == "lock-user":
            account_admin.lock_user(service.db, service.settings, args.username, args.minutes)
        else:
            action = {"unlock-user": account_admin.unlock_user,
                      "disable-user": account_admin.disable_user,
                      "enable-user": account_admin.enable_user}[args.collector_command]
            action(service.db, service.settings, args.username)
    finally:
        service.close()
    print(f"User {args.username} {ACCOUNT_ACTIONS[args.collector_command][1]}; "
          "their sessions have ended.")
    return 0


def _audit(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector import audit
    since = parse_since(args.since) if args.since else None
    service = opener(args)
    try:
        entries = audit.entries(service.db, args.site.upper() if args.site else None,
                                username=args.user, kind=args.kind, since=since)
    finally:
        service.close()
    write_output(render(rows_for_output(entries), args.format), args.output)
    if args.output:
        print(f"{len(entries)} audit row(s) written to {args.output.name}.")
    return 0
