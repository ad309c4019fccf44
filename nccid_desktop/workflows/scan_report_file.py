"""Saving what a scan found: the app's "Save scan report", the file ``nccid scan --format
json`` prints.

Why the same report: a PACS user may keep it with the export, send it to NCCID support, or
edit each series' ``"included"`` and hand it to ``nccid upload images --selection``. It holds
no identifier (patients by pseudonym, series by their de-identified UID, descriptions that
name the patient left out): :func:`nccid_desktop.dicom.scan.report.report_json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from nccid_desktop.dicom.scan.model import ScanResult
from nccid_desktop.dicom.scan.report import report_json
from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import NccidError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress


def save_scan_report(result: ScanResult, selection: Selection, keys: SiteKeys | None,
                     destination: Path, *, progress: ProgressCallback = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> Path:
    text = json.dumps(report_json(result, selection, keys=keys), indent=2)
    partial = destination.with_name(destination.name + ".part")
    try:
        partial.write_text(text + "\n", encoding="utf-8")
        partial.replace(destination)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise NccidError(f"The scan report cannot be saved in {destination.parent} "
                         f"({error.strerror or error}). Choose another folder.") from None
    return destination
