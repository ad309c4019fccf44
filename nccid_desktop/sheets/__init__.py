"""The clinical spreadsheets: templates, validation, annotated copies and warehouse records.

The public API for the GUI and the CLI; the modules behind it each do one job (definitions as
data, reading, checking, reporting, writing). Why the names are loaded on first use: reading
the template definitions (as the command parsers do) must not load openpyxl and the validator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nccid_desktop.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

#: Each public name and the module (in this package) that defines it.
_HOMES = {
    "annotate_copy": "annotate",
    "HeldRecord": "cross_check", "check_together": "cross_check",
    "held_from_windows": "cross_check",
    "MAIN": "definitions", "STATUS": "definitions", "TEMPLATES": "definitions",
    "Template": "definitions", "template_by_id": "definitions",
    "Finding": "findings", "Note": "findings", "Severity": "findings",
    "ValidationReport": "findings", "ValidRow": "findings",
    "check_record_meaning": "meaning",
    "build_envelopes": "payload", "warehouse_json": "payload", "write_warehouse_files": "payload",
    "render_text": "render",
    "save_as_current": "upgrade",
    "validate_workbook": "validator", "wrong_template_message": "validator",
    "KNOWN_VERSIONS": "versions",
    "build_template": "writer", "write_template": "writer",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__, globals())
