"""Which series to leave out or tick back in: one mechanism for the app's ticks and the
command line's ``--exclude-series`` and ``--selection``.

Why a file: a PACS user scans an export with ``nccid scan --format json > scan.json``, looks
at every series and its reason, changes ``"included"`` to ``false`` (or ``true`` for a series
the rules left out that should go), and sends with ``nccid upload images --selection
scan.json``: what they saw is what is sent. The file may also be just
``{"included": [...], "excluded": [...]}``. Series are named as the scan report names them
(the de-identified UID, without identifiers) or by their own UID; both are matched against
the export being sent, and a series the export does not hold is an error, never ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nccid_desktop.dicom.scan.model import ScanResult
from nccid_desktop.errors import NccidError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import remap_uid


class SelectionFileError(NccidError):
    """The selection is unreadable or names series the export does not hold (bad input)."""

    exit_code = 2


@dataclass(frozen=True)
class SeriesChoice:
    """Series named by the user: ticked in, left out (as written, not yet matched)."""

    included: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    def __or__(self, other: SeriesChoice) -> SeriesChoice:
        return SeriesChoice(self.included | other.included, self.excluded | other.excluded)


def _series_in_report(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for patient in report.get("patients") or []:
        for study in patient.get("studies") or []:
            yield from study.get("series") or []


def read_selection(path: Path) -> SeriesChoice:
    """A selection file: a scan report (``nccid scan --format json``) with its ``included``
    flags as the user left them, or ``{"included": [...], "excluded": [...]}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SelectionFileError(f"The selection file {path.name} cannot be read "
                                 f"({error.strerror or error}).") from None
    except ValueError:
        raise SelectionFileError(f"The selection file {path.name} is not JSON. Write it with "
                                 "'nccid scan --format json'.") from None
    if not isinstance(data, dict):
        raise SelectionFileError(f"The selection file {path.name} is not a scan report.")
    if "patients" in data:
        included: set[str] = set()
        excluded: set[str] = set()
        for series in _series_in_report(data):
            uid = series.get("series_uid")
            if isinstance(uid, str) and uid:
                (included if series.get("included") else excluded).add(uid)
        return SeriesChoice(frozenset(included), frozenset(excluded))
    lists = [data.get(key) or [] for key in ("included", "excluded")]
    if not all(isinstance(v, list) and all(isinstance(u, str) for u in v) for v in lists):
        raise SelectionFileError(f"The selection file {path.name} needs lists of series UIDs "
                                 "under \"included\" and \"excluded\".")
    return SeriesChoice(frozenset(lists[0]), frozenset(lists[1]))


def resolve(choice: SeriesChoice, result: ScanResult, keys: SiteKeys | None
            ) -> tuple[frozenset[str], frozenset[str]]:
    """The source Series Instance UIDs (included, excluded) the choice names in this export."""
    by_name: dict[str, str] = {}
    for patient in result.patients:
        for study in patient.studies:
            for series in study.series:
                by_name[series.series_uid] = series.series_uid
                if keys is not None:
                    by_name[remap_uid(keys, series.series_uid)] = series.series_uid
    unknown = [u for u in choice.included | choice.excluded if u not in by_name]
    if unknown:
        raise SelectionFileError(
            f"{len(unknown)} series named in the selection are not in this export (the first: "
            f"{sorted(unknown)[0]}). Scan the same folder again to write a new selection.")
    both = {by_name[u] for u in choice.included} & {by_name[u] for u in choice.excluded}
    if both:
        raise SelectionFileError(f"{len(both)} series are both included and excluded in the "
                                 "selection. Choose one for each.")
    return (frozenset(by_name[u] for u in choice.included),
            frozenset(by_name[u] for u in choice.excluded))


def from_options(selection: Path | None, exclude: Iterable[str],
                 include: Iterable[str] = ()) -> SeriesChoice:
    """What ``--selection FILE``, ``--exclude-series UID ...`` and ``--include-series UID ...``
    ask for, together."""
    chosen = read_selection(selection) if selection is not None else SeriesChoice()
    return chosen | SeriesChoice(included=frozenset(include), excluded=frozenset(exclude))
