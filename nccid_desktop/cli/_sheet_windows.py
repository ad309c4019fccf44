"""Shared by ``nccid scan`` and ``nccid upload images``: a sheet's rows as linkable records.

Why a private module: both commands link images to clinical records from ``--sheet`` files;
the leading underscore keeps the command discovery in :mod:`nccid_desktop.cli` from treating
it as a command group.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook


def sheet_records(path: Path, keys: SiteKeys, linking: LinkingIdentifier
                  ) -> list[ClinicalEnvelope]:
    """Envelopes of the sheet's valid rows; rows with problems are left out, and said so."""
    report = validate_workbook(path)
    envelopes = build_envelopes(report, keys, linking=linking, allow_partial=True)
    if report.error_count:
        print(f"nccid: {path.name} has {report.error_count} problem(s); rows with problems are "
              "not linked. Check it with the sheet validator.", file=sys.stderr)
    return envelopes
