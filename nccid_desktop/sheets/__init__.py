"""The clinical spreadsheets: templates, validation, annotated copies and warehouse records.

The public API for the GUI and the CLI; the modules behind it each do one job (definitions as
data, reading, checking, reporting, writing).
"""

from __future__ import annotations

from nccid_desktop.sheets.annotate import annotate_copy
from nccid_desktop.sheets.definitions import MAIN, STATUS, TEMPLATES, Template, template_by_id
from nccid_desktop.sheets.findings import Finding, Severity, ValidationReport, ValidRow
from nccid_desktop.sheets.payload import build_envelopes, warehouse_json, write_warehouse_files
from nccid_desktop.sheets.render import render_text
from nccid_desktop.sheets.validator import validate_workbook, wrong_template_message
from nccid_desktop.sheets.writer import build_template, write_template

__all__ = [
    "MAIN",
    "STATUS",
    "TEMPLATES",
    "Finding",
    "Severity",
    "Template",
    "ValidRow",
    "ValidationReport",
    "annotate_copy",
    "build_envelopes",
    "build_template",
    "render_text",
    "template_by_id",
    "validate_workbook",
    "warehouse_json",
    "write_template",
    "write_warehouse_files",
    "wrong_template_message",
]
