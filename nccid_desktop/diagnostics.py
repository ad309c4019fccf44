""""Save diagnostics" and ``nccid diagnostics -o FILE.zip``: what support needs, nothing more.

Why a bundle the user sends: IT and the NCCID service desk must be able to help without
seeing patient data or being able to sign in as anyone. The zip holds versions, the effective
configuration with its sources, the folders in use, upload-queue counts by state, and the most
recent log lines. Log lines were scrubbed when written; they are scrubbed again here (the
scrubber may have learnt more since), and anything shaped like a key, a token or a password is
masked as well. Nothing is read from the outbox's staging files, key files (the site's, or the
journal key that seals unfinished send jobs' file lists) or the environment, and no sealed
value is ever opened: of the send jobs, only their number per state is counted.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import sys
import zipfile
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from nccid_desktop import __version__
from nccid_desktop.config import policy_path, resolve
from nccid_desktop.config.report import as_text, describe
from nccid_desktop.errors import NccidError
from nccid_desktop.logsafe import REDACTED, scrub
from nccid_desktop.paths import user_config_dir, user_data_dir, user_log_dir
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.outbox import Outbox

log = logging.getLogger(__name__)

RECENT_LOG_LINES = 500
LOG_FILE = "nccid-desktop.log"
DISTRIBUTIONS = ("PySide6-Essentials", "pydicom", "openpyxl", "requests", "cryptography",
                 "truststore", "urllib3", "platformdirs")
#: Where the app (CLI and GUI share one) and the demo mode keep their upload journals.
OUTBOX_FOLDERS = ("outbox", "demo/outbox")
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)\b(password|passwd|secret|token|authorization)(\s*[:=]\s*)[^\s,;&]+"),
     rf"\1\2{REDACTED}"),
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"), f"{REDACTED}@"),
    (re.compile(r"\b[0-9a-fA-F]{40,}\b"), REDACTED),
    (re.compile(r"(?<![\w+/=-])(?=[\w+/=-]*[A-Z])(?=[\w+/=-]*[a-z])(?=[\w+/=-]*\d)"
                r"[\w+/-]{40,}={0,2}(?![\w+/=-])"), REDACTED),
)
README = """NCCID Desktop diagnostics
=========================
versions.json       app, Python, operating system and library versions
configuration.txt   each setting, its effective value and where it came from (also as JSON)
folders.json        where this user's logs, upload queue and settings are kept
queue.json          how many upload items and send jobs are in each state (counts only)
recent-log.txt      the last log lines, with identifiers, keys, tokens and passwords masked

No patient data, no keys and no passwords are included.
"""


def redact(text: str) -> str:
    """Identifiers (by :func:`scrub`) and anything shaped like a key, token or password, masked."""
    text = scrub(text)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def versions() -> dict[str, str]:
    found = {"nccid-desktop": __version__, "python": sys.version.split()[0],
             "os": platform.platform(), "machine": platform.machine(),
             "frozen": str(bool(getattr(sys, "frozen", False)))}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def configuration() -> tuple[str, dict[str, Any]]:
    """The effective settings as a table and as data; a broken policy is reported, not raised."""
    try:
        described = describe(resolve())
    except NccidError as error:
        return f"The settings could not be read: {error}", {"error": str(error)}
    return as_text(described), described


def folders() -> dict[str, str]:
    return {"logs": str(user_log_dir()), "data (upload queue, staging, quarantine)":
            str(user_data_dir()), "settings": str(user_config_dir()),
            "machine policy": str(policy_path())}


def queue_counts(data_dir: Path | None = None) -> dict[str, Any]:
    """Items per kind and state, and send jobs per state, in each upload journal found;
    counts only, never contents."""
    data_dir = data_dir or user_data_dir()
    found: dict[str, Any] = {}
    for relative in OUTBOX_FOLDERS:
        folder = data_dir / relative
        if not (folder / "outbox.sqlite3").is_file():
            continue
        outbox = Outbox(folder)
        try:
            counts = Counter(f"{item.kind} {item.state}" for item in outbox.items())
            found[relative or "."] = {"items": dict(sorted(counts.items())),
                                      "pending_bytes": outbox.pending_bytes()}
            jobs = outbox.jobs.counts_by_state()
            if jobs:
                found[relative or "."].update(
                    {"jobs": dict(sorted(jobs.items())),
                     "files_not_yet_deidentified": outbox.jobs.files_to_do()})
        finally:
            outbox.close()
    return found


def recent_log_lines(log_dir: Path | None = None, count: int = RECENT_LOG_LINES) -> list[str]:
    """The last ``count`` lines across the rotated logs (oldest first), redacted."""
    log_dir = log_dir or user_log_dir()
    files = sorted(log_dir.glob(f"{LOG_FILE}*"), key=lambda p: p.stat().st_mtime)
    lines: list[str] = []
    for path in files:
        try:
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    return [redact(line) for line in lines[-count:]]


def save_diagnostics(destination: Path, *, progress: ProgressCallback = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> Path:
    """Write the diagnostics zip to ``destination`` (atomically) and return its path."""
    destination = Path(destination)
    if not destination.parent.is_dir():
        raise NccidError(f"The folder {destination.parent} does not exist.")
    config_text, config_data = configuration()
    parts: list[tuple[str, Any]] = [
        ("README.txt", lambda: README), ("versions.json", versions),
        ("configuration.txt", lambda: config_text), ("configuration.json", lambda: config_data),
        ("folders.json", folders), ("queue.json", queue_counts),
        ("recent-log.txt", lambda: "\n".join(recent_log_lines()) + "\n")]
    temporary = destination.with_name(destination.name + ".part")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for done, (name, make) in enumerate(parts):
                cancel.raise_if_cancelled()
                progress(Progress(done, len(parts), f"Collecting {name}"))
                content = make()
                text = content if isinstance(content, str) else json.dumps(content, indent=2)
                bundle.writestr(name, redact(text) if name != "README.txt" else text)
            bundle.writestr("created.txt", datetime.now(UTC).isoformat(timespec="seconds") + "\n")
        temporary.replace(destination)
    except OSError as error:
        raise NccidError(f"The diagnostics file {destination} cannot be written "
                         f"({error.strerror or type(error).__name__}).") from None
    finally:
        temporary.unlink(missing_ok=True)
    progress(Progress(len(parts), len(parts), "Diagnostics saved"))
    log.info("diagnostics saved")
    return destination
