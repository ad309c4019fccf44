"""DICOMweb STOW-RS: send de-identified instances in size-bounded batches, honestly.

Why batches by size: one request per instance wastes round trips on small CR files, one request
for a whole study risks re-sending gigabytes after a dropped connection. Why progress counts
only acknowledged bytes: a bar that reaches 100% while the server is still storing is the
complaint users make most about uploaders; here a batch's bytes count once its answer arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from nccid_desktop.errors import TransportError
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.errors import raise_for_response, transport_error
from nccid_desktop.transport.http import HttpSettings, send_with_retry
from nccid_desktop.transport.multipart import FilePart, MultipartFileBody

log = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES = 64 * 1024 * 1024
DEFAULT_BATCH_COUNT = 200
_REFERENCED_SOP_SEQUENCE = "00081199"
_FAILED_SOP_SEQUENCE = "00081198"
_SOP_INSTANCE_UID = "00081155"
_FAILURE_REASON = "00081197"


@dataclass(frozen=True)
class StowItem:
    """A staged instance: its file and the SOP Instance UID the server will answer with."""

    sop_instance_uid: str
    path: Path
    size: int


@dataclass
class StowResult:
    """Which instances the server confirmed and which it refused (UID -> reason, and the
    rule the service named, when it named one)."""

    stored: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def merge(self, other: StowResult) -> None:
        self.stored |= other.stored
        self.failed.update(other.failed)
        self.codes.update(other.codes)


def plan_batches(items: Iterable[StowItem], max_bytes: int = DEFAULT_BATCH_BYTES,
                 max_count: int = DEFAULT_BATCH_COUNT) -> Iterator[list[StowItem]]:
    """Group items in order; a batch closes before it would pass either bound.

    An instance larger than ``max_bytes`` travels alone.
    """
    batch: list[StowItem] = []
    size = 0
    for item in items:
        if batch and (size + item.size > max_bytes or len(batch) >= max_count):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield batch


def _values(dataset: dict[str, Any], tag: str) -> list[Any]:
    element = dataset.get(tag)
    if not isinstance(element, dict):
        return []
    value = element.get("Value")
    return value if isinstance(value, list) else []


def parse_stow_response(payload: Any) -> StowResult:
    """Read a PS3.18 STOW response (DICOM JSON), plus this service's plain-English reasons."""
    result = StowResult()
    if not isinstance(payload, dict):
        return result
    messages: dict[str, str] = {}
    for failure in payload.get("nccid:failures") or []:
        if isinstance(failure, dict) and isinstance(failure.get("sop_instance_uid"), str):
            messages[failure["sop_instance_uid"]] = str(failure.get("message") or "")
            if isinstance(failure.get("code"), str):
                result.codes[failure["sop_instance_uid"]] = failure["code"]
    for item in _values(payload, _REFERENCED_SOP_SEQUENCE):
        uids = _values(item, _SOP_INSTANCE_UID) if isinstance(item, dict) else []
        result.stored.update(str(u) for u in uids)
    for item in _values(payload, _FAILED_SOP_SEQUENCE):
        if not isinstance(item, dict):
            continue
        for uid in _values(item, _SOP_INSTANCE_UID):
            codes = _values(item, _FAILURE_REASON)
            code = f"0x{int(codes[0]):04X}" if codes and isinstance(codes[0], int) else "unknown"
            result.failed[str(uid)] = messages.get(str(uid)) or (
                f"The server refused this image (DICOM failure reason {code}).")
    return result


class StowClient:
    """Posts batches to ``{base}/studies`` on a prepared session (auth set by the caller)."""

    def __init__(self, session: requests.Session, dicomweb_root: str, settings: HttpSettings,
                 *, max_batch_bytes: int = DEFAULT_BATCH_BYTES,
                 max_batch_count: int = DEFAULT_BATCH_COUNT) -> None:
        self.session = session
        self.url = dicomweb_root.rstrip("/") + "/studies"
        self.settings = settings
        self.max_batch_bytes = max_batch_bytes
        self.max_batch_count = max_batch_count

    def send_batch(self, batch: Sequence[StowItem], cancel: CancelToken = NEVER_CANCELLED
                   ) -> StowResult:
        """One STOW request (retried with a fresh body); raises on anything but an answer."""
        parts = [FilePart(item.path, item.size) for item in batch]
        boundary = MultipartFileBody(parts).boundary
        headers = {
            "Content-Type": MultipartFileBody(parts, boundary=boundary).content_type,
            "Accept": "application/dicom+json",
        }

        def body_with_boundary() -> MultipartFileBody:
            return MultipartFileBody(parts, boundary=boundary)

        try:
            response = send_with_retry(self.session, "POST", self.url, self.settings,
                                       body=body_with_boundary, headers=headers, cancel=cancel)
        except requests.RequestException as error:
            raise transport_error(error) from error
        if response.status_code in (200, 202, 409):
            try:
                payload = response.json()
            except ValueError:
                payload = None
            result = parse_stow_response(payload)
            if response.status_code == 200 and not result.stored and not result.failed:
                raise TransportError("The image server answered without saying what it stored.")
            return result
        raise_for_response(response)
        raise TransportError(f"The image server answered {response.status_code}.")

    def store(self, items: Sequence[StowItem], progress: ProgressCallback = no_progress,
              cancel: CancelToken = NEVER_CANCELLED,
              on_batch: StowBatchCallback | None = None) -> StowResult:
        """Send every item, batch by batch; progress is in bytes the server has answered for,
        and ``on_batch`` hears each answered batch (its items and the server's answer)."""
        total = sum(item.size for item in items)
        acknowledged = 0
        result = StowResult()
        progress(Progress(0, total, "Sending images"))
        for batch in plan_batches(items, self.max_batch_bytes, self.max_batch_count):
            cancel.raise_if_cancelled()
            answer = self.send_batch(batch, cancel)
            result.merge(answer)
            acknowledged += sum(item.size for item in batch)
            if on_batch is not None:
                on_batch(batch, answer)
            progress(Progress(acknowledged, total, f"{len(result.stored)} images stored"))
        return result


StowBatchCallback = Callable[[Sequence[StowItem], StowResult], None]
