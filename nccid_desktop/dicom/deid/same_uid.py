"""One image per identifier in a batch: copies used once, conflicts held back together.

Why after the batch and not per file: files are de-identified in parallel, so which of two
files sharing a SOP Instance UID reaches the staging folder first is a matter of timing.
Staging never replaces a different file (:mod:`.staging`), so the second of two *different*
images is held back by the worker; this pass then holds back the first as well (its staged
copy is removed), so the outcome does not depend on timing and neither image is sent under an
identifier that is not its own. Byte-identical outputs are one image: the first (in source
order) counts as de-identified, the others as duplicates, so the counts printed equal the
files written. A file staged by an earlier run is never removed here: a clash with it holds
back only this batch's file (clashes with the outbox and the service are checked there).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import replace

from nccid_desktop.dicom.deid.one_file import UID_CONFLICT, FileOutcome, content_key
from nccid_desktop.dicom.scan.model import DUPLICATE_REASON, HOLD_REASONS


def _duplicate(outcome: FileOutcome) -> FileOutcome:
    return replace(outcome, status="duplicate", code="duplicate", message=DUPLICATE_REASON,
                   output=None, existing=False)


def _withdrawn(outcome: FileOutcome) -> FileOutcome:
    """This batch's staged output, removed and held back (its content hash kept)."""
    key = ""
    if outcome.output is not None:
        with contextlib.suppress(OSError):
            key = content_key(outcome.output.read_bytes())
        with contextlib.suppress(FileNotFoundError):
            outcome.output.unlink()
    return replace(outcome, status="held_back", code=UID_CONFLICT,
                   message=HOLD_REASONS[UID_CONFLICT], output=None, existing=False,
                   output_key=key)


def _settle_group(members: list[int], results: dict[int, FileOutcome],
                  settled: dict[int, FileOutcome]) -> None:
    staged = [i for i in members if results[i].status == "deidentified"]
    held = [i for i in members if results[i].status == "held_back"]
    written = [i for i in staged if not results[i].existing]
    if not held:
        first = (written or staged)[0]
        for i in staged:
            if i != first:
                settled[i] = _duplicate(results[i])
        return
    # This batch's staged copy is held back with the others; a file found already staged
    # is a copy of it (a duplicate), or an earlier run's file (kept, counted once).
    for i in written:
        settled[i] = _withdrawn(results[i])
    keep = None if written else staged[0] if staged else None
    for i in staged:
        if i not in written and i != keep:
            settled[i] = _duplicate(results[i])
    seen: set[str] = set()
    for i in sorted(written + held):
        key = settled[i].output_key
        if key and key in seen:
            settled[i] = _duplicate(settled[i])
        seen.add(key)


def settle_shared_uids(results: dict[int, FileOutcome]) -> dict[int, FileOutcome]:
    """``results`` (by source index) with duplicates and conflicts settled (see above)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index in sorted(results):
        outcome = results[index]
        uid = outcome.sop_instance_uid
        if uid and (outcome.status == "deidentified" or outcome.code == UID_CONFLICT):
            groups[uid].append(index)
    settled = dict(results)
    for members in groups.values():
        if len(members) > 1 or results[members[0]].status == "held_back":
            _settle_group(members, results, settled)
    return settled
