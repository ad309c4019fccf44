"""Whether two files that share a SOP Instance UID are one image: the rule, written once.

Two files are the same image when their bytes are the same (a folder dropped with its own
zip) or when they are the same once de-identified (a re-export that changed only the file
meta, private tags or the spelling of a name). Anything else sharing a UID is two different
images, which must never be sent as one. The scan asks this before anything is
de-identified; the de-identifier reaches the same answer by comparing what it would stage.

De-identified outputs are compared under a throwaway key when the caller has none: every
keyed value (pseudonym, UIDs, date shift) is a keyed function of a source value, so two
outputs are equal under one key exactly when they are equal under any other.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from typing import BinaryIO

from nccid_desktop.bounded import TooLarge
from nccid_desktop.dicom.deid.one_file import DeidContext, InMemory, deidentify_in_memory
from nccid_desktop.dicom.scan.sources import READ_ERRORS, SourceFile
from nccid_desktop.keys import SiteKeys
from nccid_desktop.limits import DEFAULT_LIMITS, Limits

_CHUNK = 1 << 20
_READ_ERRORS: tuple[type[Exception], ...] = (TooLarge, *READ_ERRORS)


def _open(source: SourceFile, limits: Limits, stack: contextlib.ExitStack) -> BinaryIO:
    if source.member is None:
        source.check_size(limits)
        return stack.enter_context(open(source.path, "rb"))
    archive = stack.enter_context(zipfile.ZipFile(source.path))
    return stack.enter_context(source.open_member(archive, limits))


def same_bytes(a: SourceFile, b: SourceFile, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether the two files hold the same bytes (compared in chunks, never whole)."""
    if a.size != b.size:
        return False
    try:
        with contextlib.ExitStack() as stack:
            first, second = _open(a, limits, stack), _open(b, limits, stack)
            while True:
                chunk = first.read(_CHUNK)
                if chunk != second.read(_CHUNK):
                    return False
                if not chunk:
                    return True
    except _READ_ERRORS:
        return False


def _throwaway_context() -> DeidContext:
    return DeidContext(SiteKeys(site="COMPARE", secret=os.urandom(32),
                                controller_public_key=b""))


def same_image(a: SourceFile, b: SourceFile, limits: Limits = DEFAULT_LIMITS,
               ctx: DeidContext | None = None) -> bool:
    """Whether ``a`` and ``b`` are one image (see the module docstring); False when either
    cannot be read or de-identified, since then nothing shows they are the same."""
    if same_bytes(a, b, limits):
        return True
    ctx = ctx or _throwaway_context()
    outputs = []
    for source in (a, b):
        try:
            data = source.read_bytes(limits)
        except _READ_ERRORS:
            return False
        result = deidentify_in_memory(data, ctx, limits=limits)
        if not isinstance(result, InMemory):
            return False
        outputs.append(result.output)
    return outputs[0] == outputs[1]
