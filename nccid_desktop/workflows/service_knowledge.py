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
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import remap_uid
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient

Windows = dict[str, tuple[ClinicalWindow, ...]]


@dataclass(frozen=True)
class ServiceKnowledge:
    """``windows`` None: the service could not say (an older service); ``uploaded_uids`` are
    the remapped SOP Instance UIDs, as the service stores them."""

    windows: Windows | None
    uploaded_uids: frozenset[str]


def ask_service(client: CollectorClient, keys: SiteKeys, result: ScanResult,
                progress: ProgressCallback = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> ServiceKnowledge:
    """The service's clinical windows for the site, and which scanned images it holds.

    A service holding no record of the site cannot link anything yet: its windows count as
    unknown (None), so the selection says the images were not checked rather than unlinked.
    """
    progress(Progress(0, None, "Asking the service which images and records it already has"))
    remapped = [remap_uid(keys, f.sop_instance_uid)
                for _, _, series in result.iter_series() for f in series.files]
    uploaded = frozenset(client.known_sop_instances(remapped, cancel)) if remapped else frozenset()
    return ServiceKnowledge(client.clinical_windows(cancel) or None, uploaded)


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
