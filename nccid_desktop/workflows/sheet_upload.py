"""Upload a checked sheet: queue its pseudonymised records durably, then send them.

Why the envelopes come from the check: the rows were pseudonymised once when the sheet was
checked (:mod:`sheet_check`); doing it again here doubled the work for nothing. They are
rebuilt only when the keys or the linking setting changed since. Staging is idempotent and
the outbox remembers what is left, so a retry after a network failure runs this again and
sends only the rest. Images waiting in the same queue are left to Send Images and
``nccid resume``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutList, opted_out_sentence
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.records import ClinicalEnvelope
from nccid_desktop.sheets.payload import build_envelopes, opted_out_rows
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import RECORDS_ONLY, Reauthenticate, Uploader, UploadReport
from nccid_desktop.workflows.opt_outs import as_opt_out_list
from nccid_desktop.workflows.sheet_check import CheckedSheet
from nccid_desktop.workflows.words import plural


@dataclass(frozen=True)
class SheetUploadOutcome:
    patients: int
    upload: UploadReport
    #: rows left out because their patient is on the opt-out list (never pseudonymised)
    opted_out: int = 0

    @property
    def message(self) -> str:
        sent = self.upload.records_stored + self.upload.records_unchanged
        text = f"{plural(sent, 'patient')} uploaded"
        if self.upload.records_unchanged:
            text += f" ({self.upload.records_unchanged} were already there, unchanged)"
        text += "."
        if self.opted_out:
            text += " " + opted_out_sentence(self.opted_out)
        if self.upload.notices:
            text += (f" The service holds back {plural(len(self.upload.notices), 'record')}: "
                     f"{self.upload.notices[0]}")
        return text


def envelopes_to_send(checked: CheckedSheet, keys: SiteKeys, linking: LinkingIdentifier, *,
                      opt_outs: OptOutList | None = None,
                      progress: ProgressCallback = no_progress,
                      cancel: CancelToken = NEVER_CANCELLED) -> list[ClinicalEnvelope]:
    """The sheet's envelopes: those of the check when they fit, else made now; never one of
    a patient on ``opt_outs`` (checked again by NHS/CHI index, whatever the check kept).

    A sheet with problems is never sent in part: :func:`build_envelopes` refuses it.
    """
    if (checked.report.error_count or not checked.pseudonymised_for(keys, linking)
            or not checked.opted_out_under(opt_outs)):
        envelopes = build_envelopes(checked.report, keys, linking=linking, opt_outs=opt_outs,
                                    progress=progress, cancel=cancel)
    elif checked.envelope_error is not None:
        raise checked.envelope_error
    else:
        envelopes = list(checked.envelopes or ())
    if opt_outs is None:
        return envelopes
    listed = opt_outs.indexes(keys)
    return [e for e in envelopes if e.nhs_index not in listed]


def upload_sheet(checked: CheckedSheet, keys: SiteKeys, client: CollectorClient, outbox: Outbox,
                 linking: LinkingIdentifier = "hospital", *,
                 opt_outs: OptOutList | str | Path | None = None,
                 reauthenticate: Reauthenticate | None = None,
                 progress: ProgressCallback = no_progress,
                 cancel: CancelToken = NEVER_CANCELLED) -> SheetUploadOutcome:
    """Queue the sheet's records durably and send the queued records; rows of patients on
    ``opt_outs`` (the list, or the file a setting names) are never pseudonymised, staged or
    sent (the outcome counts them)."""
    opt_outs = as_opt_out_list(opt_outs)
    envelopes = envelopes_to_send(checked, keys, linking, opt_outs=opt_outs, progress=progress,
                                  cancel=cancel)
    for envelope in envelopes:
        cancel.raise_if_cancelled()
        outbox.stage_record(envelope)
    upload = Uploader(client, outbox, reauthenticate=reauthenticate).run(
        progress, cancel, kinds=RECORDS_ONLY)
    return SheetUploadOutcome(len(envelopes), upload, opted_out_rows(checked.report, opt_outs))
