"""Warnings and log lines of the libraries the service runs go to its scrubbed log, never stderr.

Why: pydicom warns about values it finds invalid by quoting them (``Invalid value for VR UI:
'...'``), and a service manager sends stderr to the system journal. So Python warnings are
captured into logging (``py.warnings``), quoted values in them and in pydicom's own log lines
are masked before anything formats them, and those loggers always have a handler, so Python's
last-resort handler never prints them to stderr. ``serve`` writes them to the service's log
file through the scrubbing formatter (:func:`nccid_desktop.logsafe.configure_logging`).
"""

from __future__ import annotations

import logging
import re

#: Loggers that carry other libraries' words: Python warnings, pydicom, uvicorn.
LIBRARY_LOGGERS = ("py.warnings", "pydicom", "uvicorn", "uvicorn.error")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|b'[^'\n]*'")
MASK = "'[value]'"


class QuotedValueFilter(logging.Filter):
    """Masks every quoted value in a record's message (the record's arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep only its template
            message = str(record.msg)
        record.msg = _QUOTED.sub(MASK, message)
        record.args = None
        return True


def capture_library_output() -> None:
    """Route warnings into logging and mask quoted values (idempotent)."""
    logging.captureWarnings(True)
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuotedValueFilter) for f in logger.filters):
            logger.addFilter(QuotedValueFilter())
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())  # never the last-resort stderr handler
