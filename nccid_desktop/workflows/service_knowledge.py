"""What the collection service already knows that decides which scanned images to send.

Why a step of its own: the selection rules (:mod:`nccid_desktop.dicom.select.rules`) want each
patient's clinical date windows and the images already uploaded. The service holds both (the
records the nurses sent, the instances already stored), the CLI and Send Images both ask, and
a sheet validated on this workstation can add windows the service has not heard of yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nccid_desktop.dicom.scan.model import ScanResult
from nccid_desktop.dicom.select.clinical_windows import ClinicalWindow
from nccid_desktop.dicom.select.rules import pseudonym_of
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, remap_uid
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient

Windows = dict[str, tuple[ClinicalWindow, ...]]


@dataclass(frozen=True)
class ServiceKnowledge:
    """``windows`` None: the service could not say (an older service); ``uploaded_uids`` are
    the remapped SOP Instance UIDs, as the service stores them, held for the same patient;
    ``other_patient`` the source SOP Instance UIDs of scanned images whose identifier the
    service holds for another patient (held back: never sent, never "already uploaded")."""

    windows: Windows | None
    uploaded_uids: frozenset[str]
    other_patient: frozenset[str] = frozenset()


def ask_service(client: CollectorClient, keys: SiteKeys, result: ScanResult,
                progress: ProgressCallback = no_progress,
                cancel: CancelToken = NEVER_CANCELLED,
                linking: LinkingIdentifier = "hospital") -> ServiceKnowledge:
    """The service's clinical windows for the site, and which scanned images it holds (for
    this patient, or for another).

    A service holding no record of the site cannot link anything yet: its windows count as
    unknown (None), so the selection says the images were not checked rather than unlinked.
    """
    progress(Progress(0, None, "Asking the service which images and records it already has"))
    sources: list[str] = []
    remapped: list[str] = []
    pseudonyms: list[str] = []
    for patient, _, series in result.iter_series():
        pseudonym = pseudonym_of(patient, keys, linking)
        if pseudonym is None:
            continue  # no usable ID: never sent, nothing to ask
        for file in series.files:
            sources.append(file.sop_instance_uid)
            remapped.append(remap_uid(keys, file.sop_instance_uid))
            pseudonyms.append(pseudonym)
    uploaded: set[str] = set()
    other: set[str] = set()
    if remapped:
        uploaded, other = client.held_images(remapped, pseudonyms, cancel)
    clashes = frozenset(s for s, r in zip(sources, remapped, strict=True) if r in other)
    return ServiceKnowledge(client.clinical_windows(cancel) or None, frozenset(uploaded),
                            clashes)


def merge_windows(*sources: Mapping[str, tuple[ClinicalWindow, ...]] | None) -> Windows | None:
    """Every window of every source per pseudonym (no duplicates); None if no source knows."""
    known = [source for source in sources if source is not None]
    if not known:
        return None
    merged: Windows = {}
    for source in known:
        for pseudonym, windows in source.items():
            merged[pseudonym] = tuple(dict.fromkeys(merged.get(pseudonym, ()) + tuple(windows)))
    return merged
