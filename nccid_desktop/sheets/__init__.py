"""The clinical spreadsheets: templates, validation, annotated copies and warehouse records.

The public API for the GUI and the CLI; the modules behind it each do one job (definitions as
data, reading, checking, reporting, writing).
"""

from __future__ import annotations

from nccid_desktop.sheets.annotate import annotate_copy
from nccid_desktop.sheets.cross_check import HeldRecord, check_together, held_from_windows
from nccid_desktop.sheets.definitions import MAIN, STATUS, TEMPLATES, Template, template_by_id
from nccid_desktop.sheets.findings import Finding, Note, Severity, ValidationReport, ValidRow
from nccid_desktop.sheets.meaning import check_record_meaning
from nccid_desktop.sheets.payload import build_envelopes, warehouse_json, write_warehouse_files
from nccid_desktop.sheets.render import render_text
from nccid_desktop.sheets.upgrade import save_as_current
from nccid_desktop.sheets.validator import validate_workbook, wrong_template_message
from nccid_desktop.sheets.versions import KNOWN_VERSIONS
from nccid_desktop.sheets.writer import build_template, write_template

__all__ = [
    "KNOWN_VERSIONS",
    "MAIN",
    "STATUS",
    "TEMPLATES",
    "Finding",
    "HeldRecord",
    "Note",
    "Severity",
    "Template",
    "ValidRow",
    "ValidationReport",
    "annotate_copy",
    "build_envelopes",
    "build_template",
    "check_record_meaning",
    "check_together",
    "held_from_windows",
    "render_text",
    "save_as_current",
    "template_by_id",
    "validate_workbook",
    "warehouse_json",
    "write_template",
    "write_warehouse_files",
    "wrong_template_message",
]
