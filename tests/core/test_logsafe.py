from __future__ import annotations

import logging
from pathlib import Path

from nccid_desktop.logsafe import REDACTED, configure_logging, register_sensitive, scrub


def test_nhs_shaped_numbers_and_dates_are_masked() -> None:
    line = scrub("row 12: 943 476 5919 / 9434765919 / 943-476-5919 born 01/02/1960")
    assert "5919" not in line and "1960" not in line
    assert line.count(REDACTED) == 4 and line.startswith("row 12:")


def test_pseudonyms_uids_and_counts_survive() -> None:
    line = "Covid9198885549793694 2.25.150961778363503155543140698574054335007 sent 48 rows"
    assert scrub(line) == line


def test_registered_values_are_masked_case_insensitively() -> None:
    register_sensitive("RR12345678", "Smith^John", None, "ab")
    assert scrub("patient rr12345678 SMITH^JOHN ab") == f"patient {REDACTED} {REDACTED} ab"


def test_log_file_and_tracebacks_are_scrubbed(tmp_path: Path) -> None:
    register_sensitive("RR99887766")
    path = configure_logging(tmp_path)
    log = logging.getLogger("nccid_desktop.test")
    try:
        raise ValueError("bad value RR99887766 for 9434765919")
    except ValueError:
        log.exception("failed on %s", "RR99887766")
    for handler in logging.getLogger("nccid_desktop").handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "ValueError" in text and "Traceback" in text
    assert "RR99887766" not in text and "9434765919" not in text
    configure_logging(None)
