"""Files of a scan that share a SOP Instance UID: one image used once, or images held back.

Why: the SOP Instance UID names an image everywhere downstream (the staged file, the outbox,
the warehouse). Copies of one image (a folder dropped with its own zip, a re-export) are used
once and the copies reported as duplicates. Different images that share a UID (re-exports,
vendor bugs, copied test data) are all held back with their reason, in their own patient's
tree, so they are never written over each other or sent as one: PACS must re-export them.
Which files are "the same image" is decided by the caller's comparison (the scanner uses
:func:`nccid_desktop.dicom.deid.same_image.same_image`), asked only for files sharing a UID.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace

from nccid_desktop.dicom.scan.headers import FileHeader
from nccid_desktop.dicom.scan.model import DUPLICATE_REASON, SkippedFile

UID_CONFLICT = "uid_conflict"

SameImage = Callable[[FileHeader, FileHeader], bool]


def settle_shared_uids(items: Sequence[FileHeader | SkippedFile],
                       same_image: SameImage) -> list[FileHeader | SkippedFile]:
    """``items`` in order, copies turned into ``duplicate`` skips and the first of each
    different image sharing a UID marked held back (``hold="uid_conflict"``)."""
    settled = list(items)
    by_uid: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(settled):
        if isinstance(item, FileHeader):
            by_uid[item.get("SOPInstanceUID")].append(index)
    for indexes in by_uid.values():
        if len(indexes) < 2:
            continue
        images: list[list[int]] = []
        for index in indexes:
            header = settled[index]
            assert isinstance(header, FileHeader)
            for image in images:
                first = settled[image[0]]
                assert isinstance(first, FileHeader)
                if same_image(first, header):
                    image.append(index)
                    break
            else:
                images.append([index])
        for image in images:
            for copy in image[1:]:
                settled[copy] = SkippedFile(settled[copy].source, "duplicate", DUPLICATE_REASON)
            first = settled[image[0]]
            if len(images) > 1 and isinstance(first, FileHeader):
                settled[image[0]] = replace(first, hold=UID_CONFLICT)
    return settled
