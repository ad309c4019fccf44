"""Logging that cannot print a patient identifier.

Why a formatter and not just discipline: code is written carefully never to log identifiers,
but a library's exception text or a future change might. So every log line (including
tracebacks) passes through :func:`scrub` before it is written: anything shaped like an NHS/CHI
number or a UK date of birth is masked, and so is every exact value the app has registered as
sensitive while reading a sheet or a DICOM header (names, hospital numbers).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

REDACTED = "[redacted]"
_NHS_LIKE = re.compile(r"(?<![\w.])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w.])")
_DATE_LIKE = re.compile(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}(?!\d)")
_MIN_SENSITIVE_LENGTH = 3

_sensitive: set[str] = set()
_sensitive_pattern: re.Pattern[str] | None = None
_pattern_stale = False
_lock = threading.Lock()


def register_sensitive(*values: object) -> None:
    """Remember exact values (names, hospital numbers) that must be masked in any log line.

    Cheap to call per row: the combined pattern is rebuilt lazily, on the next scrub.
    """
    global _pattern_stale
    with _lock:
        for value in values:
            text = str(value).strip() if value is not None else ""
            if len(text) >= _MIN_SENSITIVE_LENGTH and text not in _sensitive:
                _sensitive.add(text)
                _pattern_stale = True


def forget_sensitive() -> None:
    """Drop registered values (tests, and the end of a session)."""
    global _sensitive_pattern, _pattern_stale
    with _lock:
        _sensitive.clear()
        _sensitive_pattern = None
        _pattern_stale = False


def _current_pattern() -> re.Pattern[str] | None:
    global _sensitive_pattern, _pattern_stale
    with _lock:
        if _pattern_stale:
            ordered = sorted(_sensitive, key=len, reverse=True)
            _sensitive_pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)
            _pattern_stale = False
        return _sensitive_pattern


def scrub(text: str) -> str:
    """``text`` with identifier-shaped and registered sensitive values masked."""
    pattern = _current_pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _NHS_LIKE.sub(REDACTED, text)
    return _DATE_LIKE.sub(REDACTED, text)


class ScrubbingFormatter(logging.Formatter):
    """Formats as usual, then scrubs the whole line, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log_dir: Path | None = None, level: int = logging.INFO, *,
                      loggers: tuple[str, ...] = ("nccid_desktop",),
                      file_name: str = "nccid-desktop.log") -> Path | None:
    """Send the logs of ``loggers`` to a rotating file (5 x 1 MB) in ``log_dir``; its path.

    The collection service passes its own package too (``nccid_collector``) and its own file
    name; every line goes through the same scrubbing formatter either way.
    """
    for name in loggers:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        for handler in list(logger.handlers):
            if getattr(handler, "_nccid", False):
                logger.removeHandler(handler)
                handler.close()
    if log_dir is None:
        return None
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / file_name
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(ScrubbingFormatter(LOG_FORMAT))
    handler._nccid = True  # type: ignore[attr-defined]
    for name in loggers:
        logging.getLogger(name).addHandler(handler)
    return path
