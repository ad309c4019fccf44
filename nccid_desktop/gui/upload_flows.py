"""The background steps behind the Upload and Send buttons, composed from core calls only.

Why here and Qt-free: a page should only say "run this, then show that". Each function
returns a task ``(progress, cancel) -> result`` for :class:`WorkerPool`; every step it takes
belongs to the core (pseudonymising, the durable outbox, the uploader), so a retry after a
network failure simply runs the same task again: staging is idempotent and the outbox
remembers what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.sheets.findings import ValidationReport
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.tasks import CancelToken, ProgressCallback
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import RECORDS_ONLY, Uploader, UploadReport


@dataclass(frozen=True)
class SheetUploadOutcome:
    patients: int
    upload: UploadReport

    @property
    def message(self) -> str:
        sent = self.upload.records_stored + self.upload.records_unchanged
        noun = "patient" if sent == 1 else "patients"
        text = f"{sent} {noun} uploaded"
        if self.upload.records_unchanged:
            text += f" ({self.upload.records_unchanged} were already there, unchanged)"
        return text + "."


INVARIANT_PLURALS = frozenset({"series"})


def plural(count: int, word: str) -> str:
    """``1 patient``, ``2 patients``, ``3 series``."""
    ending = "" if count == 1 or word in INVARIANT_PLURALS else "s"
    return f"{count} {word}{ending}"


def sheet_upload_task(report: ValidationReport, keys: SiteKeys, client: CollectorClient,
                      outbox: Outbox, linking: LinkingIdentifier = "hospital"):
    """Pseudonymise the valid rows, queue them durably, and send the queued records (images
    waiting in the same queue are left to Send Images)."""

    def task(progress: ProgressCallback, cancel: CancelToken) -> SheetUploadOutcome:
        envelopes = build_envelopes(report, keys, linking=linking, progress=progress,
                                    cancel=cancel)
        for envelope in envelopes:
            outbox.stage_record(envelope)
        upload = Uploader(client, outbox).run(progress, cancel, kinds=RECORDS_ONLY)
        return SheetUploadOutcome(len(envelopes), upload)

    return task
