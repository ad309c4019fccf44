"""What every page needs to reach the core: the worker pool, the signed-in client, the keys.

Why one small object: pages must not find things for themselves (no globals, no singletons),
so tests can build a page over a real embedded service and a temporary home folder. It holds
no Qt widgets and makes no calls; it only carries references.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow
from nccid_desktop.dicom.select.links import ListedPatient
from nccid_desktop.gui.workers import WorkerPool
from nccid_desktop.keys import SiteKeys
from nccid_desktop.paths import user_data_dir
from nccid_desktop.pseudonym import LinkingIdentifier
from nccid_desktop.transport.client import CollectorClient, SignedIn
from nccid_desktop.transport.outbox import OUTBOX_FOLDER, Outbox
from nccid_desktop.workflows.opt_outs import OptOutSelection


@dataclass
class SiteOptions:
    """The settings the pages act on (from the Settings page and the machine policy)."""

    server_url: str = ""
    proxy: str = ""
    hospital_pattern: str = ""
    linking: LinkingIdentifier = "hospital"
    negative_window_days_after: int = 0
    #: the trust's opt-out list file (empty: none in force)
    opt_out_list: str = ""


@dataclass
class AppContext:
    pool: WorkerPool
    options: SiteOptions = field(default_factory=SiteOptions)
    demo: bool = False
    client: CollectorClient | None = None
    keys: SiteKeys | None = None
    data_dir: Path = field(default_factory=user_data_dir)
    windows: dict[str, tuple[ClinicalWindow, ...]] | None = None
    #: Demo mode's sample sheets and images, where Browse starts (None outside demo mode).
    samples: Path | None = None
    #: Per template, the rows of the sheet checked last (for the link report; this session's
    #: memory only, never written anywhere).
    listed: dict[str, list[ListedPatient]] = field(default_factory=dict)
    #: The PatientIDs of the images scanned last (hospital linking only): they teach the
    #: sheet check the form of the site's hospital numbers. This session's memory only.
    image_patient_ids: list[str] | None = None
    opt_outs: OptOutSelection | None = None
    _outbox: Outbox | None = None

    @property
    def signed_in(self) -> SignedIn | None:
        return self.client.signed_in if self.client is not None else None

    @property
    def site(self) -> str:
        user = self.signed_in
        return user.site if user else ""

    def add_windows(self, windows: dict[str, tuple[ClinicalWindow, ...]]) -> None:
        """Remember the clinical date windows of a checked sheet, for Send Images' rules."""
        merged = dict(self.windows or {})
        for pseudonym, found in windows.items():
            merged[pseudonym] = tuple(dict.fromkeys(merged.get(pseudonym, ()) + found))
        self.windows = merged

    def add_listed(self, template: str, listed: list[ListedPatient]) -> None:
        """Remember the rows of a checked sheet, so Send Images can show the link report."""
        self.listed[template] = listed

    def all_listed(self) -> list[ListedPatient]:
        return [patient for rows in self.listed.values() for patient in rows]

    def add_opt_outs(self, known: OptOutSelection | None) -> None:
        """Remember which patients of a checked sheet are on the opt-out list (and which
        could be checked), for Send Images' opt-out rule."""
        if known is not None:
            self.opt_outs = known.merged(self.opt_outs)

    def opt_out_selection(self) -> OptOutSelection | None:
        """What Send Images leaves out: None without a list; with one, patients not on a
        sheet checked here cannot be checked and are held back (fail closed)."""
        if not self.options.opt_out_list:
            return None
        return self.opt_outs or OptOutSelection(frozenset(), frozenset())

    def require_client(self) -> CollectorClient:
        if self.client is None or self.client.signed_in is None:
            from nccid_desktop.transport.errors import SessionExpiredError

            raise SessionExpiredError("You are not signed in. Sign in again to carry on.")
        return self.client

    @property
    def outbox(self) -> Outbox:
        """The durable upload queue, opened on first use (so tests that never upload skip it)."""
        if self._outbox is None:
            self._outbox = Outbox(self.data_dir / OUTBOX_FOLDER)
        return self._outbox

    def close(self) -> None:
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None
