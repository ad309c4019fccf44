"""De-identify one DICOM file into the staging folder, or refuse it with a reason.

Why this life cycle: a file reaches the staging folder (what gets sent) only after it was
de-identified in memory (:mod:`.byte_editor`, or :mod:`.pydicom_reference` with
:mod:`..codec.part10_writer`), and those very bytes passed the independent second check
(:mod:`..verify.verifier`); only then are they written, to a temporary name linked into
place (:mod:`.staging`), so the staging folder never holds a half-written or unchecked file,
and never a file written over a different one with the same name. Verifying the
bytes in memory rather than re-reading the file saves a read of every output without
weakening the check: what is written is what was checked.
Anything unexpected fails closed: the file is reported as quarantined, unreadable or failed,
and never staged. Originals are only read.

Outputs are named ``<new SOPInstanceUID>.dcm`` (flat and short, like the warehouse layout) and
are deterministic: the same source gives byte-identical output on every run and workstation.
"""

from __future__ import annotations

import hashlib
import io
import logging
import traceback
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from nccid_desktop.bounded import TooLarge, check_inflated
from nccid_desktop.dicom.codec.file_meta import DEFLATED, transfer_syntax_and_data_start
from nccid_desktop.dicom.codec.part10_writer import encode_part10
from nccid_desktop.dicom.codec.pixel_extent import PixelRefusal, check_dataset, check_walked
from nccid_desktop.dicom.codec.raw_walk import NeedsFullParser, Part10, walk_part10
from nccid_desktop.dicom.deid import byte_editor
from nccid_desktop.dicom.deid.marks import IMPLEMENTATION_VERSION
from nccid_desktop.dicom.deid.pydicom_reference import DeidContext, Quarantined, deidentify_dataset
from nccid_desktop.dicom.deid.source_read import SourceUnreadable, read_source
from nccid_desktop.dicom.deid.staging import stage, store_quarantine
from nccid_desktop.dicom.scan.model import HOLD_REASONS
from nccid_desktop.dicom.scan.sources import IMAGE_SETTING, READ_ERRORS, SUBJECT, SourceFile
from nccid_desktop.dicom.verify.verifier import SourceIdentity, verify_output
from nccid_desktop.errors import is_disk_full
from nccid_desktop.limits import DEFAULT_LIMITS, Limits

__all__ = ["DeidContext", "FileOutcome", "InMemory", "Quarantined", "deidentify_dataset",
           "deidentify_file", "deidentify_in_memory"]

log = logging.getLogger(__name__)

#: ``refused``: over a size limit, or pixel data that does not fit its header (never read
#: whole, never copied to quarantine, so a hostile file cannot fill the disk either).
#: ``held_back``: another image already has its identifier (see :data:`HOLD_REASONS`);
#: ``duplicate``: the same image as another of the batch, used once (set by the batch).
Status = Literal["deidentified", "duplicate", "held_back", "quarantined", "refused",
                 "unreadable", "failed"]
UID_CONFLICT = "uid_conflict"
#: A write failed because the disk is full: not the file's fault, so a send job stops before
#: it and resumes it once space is freed (never journaled as done, never quarantined).
DISK_FULL = "disk_full"
_PREAMBLE = bytes(128)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one source file; never holds a source path or an identifier.

    ``bytes`` is the size of the staged output for a de-identified file, else of the source.
    ``source_key`` is a content hash of the source (audit and quarantine name) when the file
    was not de-identified. ``existing`` is True when the staged output was already there,
    byte for byte, so this file wrote nothing. ``output_key`` is a content hash of the
    output of a file held back, so copies among those can be told apart from conflicts.
    """

    status: Status
    code: str = ""
    message: str = ""
    output: Path | None = None
    sop_instance_uid: str | None = None
    pseudonym: str | None = None
    bytes: int = 0
    source_key: str = ""
    existing: bool = False
    output_key: str = ""


def content_key(data: bytes) -> str:
    """A name for a source that says nothing about where it came from."""
    return hashlib.sha256(data).hexdigest()[:32]


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return str(syntax)
    implicit, little = ds.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little is not False else ExplicitVRBigEndian


def _new_file_meta(ds: Dataset, transfer_syntax: str) -> FileMetaDataset:
    """A fresh file meta: nothing of the source's meta (AE titles, private info) survives.

    Complete as written (the version ``dcmwrite`` would add is there), so the encoder writes
    it without completing it."""
    meta = FileMetaDataset()
    for tag, vr, value in ((0x00020001, "OB", b"\x00\x01"),
                           (0x00020002, "UI", ds.SOPClassUID),
                           (0x00020003, "UI", ds.SOPInstanceUID),
                           (0x00020010, "UI", UID(transfer_syntax)),
                           (0x00020012, "UI", PYDICOM_IMPLEMENTATION_UID),
                           (0x00020013, "SH", IMPLEMENTATION_VERSION)):
        meta[tag] = DataElement(tag, vr, value)
    return meta


def _where(exc: BaseException) -> str:
    """Where an exception happened (file and line), without its message (it may hold values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno}"


def _refuse(data: bytes, code: str, message: str, quarantine_dir: Path | None) -> FileOutcome:
    key = content_key(data)
    store_quarantine(quarantine_dir, code, message, key, data)
    return FileOutcome("quarantined", code, message, bytes=len(data), source_key=key)


def _prepare(data: bytes, ctx: DeidContext, walked: Part10 | None = None,
             limits: Limits = DEFAULT_LIMITS) -> tuple[Dataset, SourceIdentity, str, str]:
    """Parse and de-identify in memory: (dataset, source identity, pseudonym, new UID)."""
    ds, identity = read_source(data, walked)
    if walked is None:
        check_dataset(ds, limits)
    transfer_syntax = _transfer_syntax(ds)
    pseudonym = deidentify_dataset(ds, ctx)
    new_uid = str(ds.get("SOPInstanceUID") or "").strip()
    if not new_uid or "SOPClassUID" not in ds:
        raise Quarantined.no_sop_instance_uid()
    ds.file_meta = _new_file_meta(ds, transfer_syntax)
    ds.preamble = _PREAMBLE
    return ds, identity, pseudonym, new_uid


def _refused(code: str, message: str, size: int) -> FileOutcome:
    return FileOutcome("refused", code, message, bytes=size)


def _check_deflated(data: bytes, limits: Limits) -> None:
    """pydicom inflates a deflated data set whole: count its inflated size first."""
    found = transfer_syntax_and_data_start(data[:65536])
    if found is not None and found[0] == DEFLATED:
        check_inflated(io.BytesIO(data[found[1]:]), max(1, len(data) - found[1]),
                       limits.image_bytes, limits, subject=SUBJECT, setting=IMAGE_SETTING)


@dataclass(frozen=True)
class InMemory:
    """A source de-identified in memory, not yet verified nor written."""

    output: bytes
    identity: SourceIdentity
    pseudonym: str
    new_uid: str


def deidentify_in_memory(data: bytes, ctx: DeidContext, *, limits: Limits = DEFAULT_LIMITS,
                         quarantine_dir: Path | None = None) -> InMemory | FileOutcome:
    """De-identify ``data`` in memory: its output, or the outcome that refuses it (a
    quarantined source is kept in ``quarantine_dir``). Never raises."""
    try:
        _check_deflated(data, limits)
    except TooLarge as refusal:
        return _refused(refusal.code, refusal.message, len(data))
    except (zlib.error, EOFError):
        return FileOutcome("unreadable", "corrupt", "The file looks like DICOM but is damaged.",
                           bytes=len(data), source_key=content_key(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's value warnings would echo header values
        walked = _walk(data)
        try:
            if walked is not None:
                check_walked(data, walked, limits)
            fast = _raw_output(data, walked, ctx) if walked is not None else None
            if fast is not None:
                return InMemory(fast.output, fast.identity, fast.pseudonym, fast.new_uid)
            ds, identity, pseudonym, new_uid = _prepare(data, ctx, walked, limits)
        except PixelRefusal as refusal:
            return _refused(refusal.code, refusal.message, len(data))
        except SourceUnreadable as refusal:
            return FileOutcome("unreadable", refusal.code, refusal.message, bytes=len(data),
                               source_key=content_key(data))
        except Quarantined as refusal:
            return _refuse(data, refusal.code, refusal.message, quarantine_dir)
        except Exception as exc:
            log.warning("De-identification failed: %s at %s", type(exc).__name__, _where(exc))
            return FileOutcome("failed", "deid_error",
                               f"The file could not be de-identified ({type(exc).__name__}).",
                               bytes=len(data), source_key=content_key(data))
        try:
            output = encode_part10(ds, data)
        except Exception as exc:
            log.warning("Writing a de-identified file failed: %s at %s",
                        type(exc).__name__, _where(exc))
            return FileOutcome("failed", "write_error",
                               f"The de-identified file could not be written "
                               f"({type(exc).__name__}).",
                               bytes=len(data), source_key=content_key(data))
    return InMemory(output, identity, pseudonym, new_uid)


def deidentify_file(source: SourceFile | Path, out_dir: Path, ctx: DeidContext, *,
                    quarantine_dir: Path | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> FileOutcome:
    """De-identify one file into ``out_dir`` (flat, ``<new SOPInstanceUID>.dcm``).

    Quarantined files are copied to ``quarantine_dir/<code>/`` under a content hash (never
    the original name, which may hold a patient's name) with a reason file; with no
    ``quarantine_dir`` they are only reported. A verify failure moves the written output into
    quarantine (or deletes it); it never stays in ``out_dir``. A file beyond ``limits`` is
    ``refused``: not read whole, not copied anywhere. A different file already staged under
    the same name is never replaced: this one is ``held_back`` (see :mod:`.staging`).
    """
    if not isinstance(source, SourceFile):
        source = SourceFile(Path(source))
    try:
        data = source.read_bytes(limits)
    except TooLarge as refusal:
        return _refused(refusal.code, refusal.message, source.size)
    except READ_ERRORS:
        return FileOutcome("unreadable", "unreadable_file", "The file could not be read.")
    result = deidentify_in_memory(data, ctx, limits=limits, quarantine_dir=quarantine_dir)
    if isinstance(result, FileOutcome):
        return result
    return _verify_and_write(result, data, Path(out_dir), quarantine_dir)


def _walk(data: bytes) -> Part10 | None:
    """The element tree of ``data``, walked once for both paths; None when the walk leaves
    the file to pydicom or fails (:func:`read_source` then judges it, in its own ``try``)."""
    try:
        return walk_part10(data)
    except Exception:
        return None


def _raw_output(data: bytes, walked: Part10, ctx: DeidContext) -> byte_editor.RawOutput | None:
    """The output of the raw-bytes de-identifier (:mod:`.byte_editor`), or None when the file
    is left to the pydicom path: declined, or any unexpected error there (the pydicom path
    then gives its own outcome). Raises :class:`Quarantined` as the pydicom path would."""
    try:
        return byte_editor.deidentify_raw(data, walked, ctx)
    except NeedsFullParser:
        return None
    except Quarantined:
        raise
    except Exception as exc:
        log.debug("The fast de-identifier stepped aside: %s at %s", type(exc).__name__,
                  _where(exc))
        return None


def _verify_and_write(done: InMemory, data: bytes, out_dir: Path,
                      quarantine_dir: Path | None) -> FileOutcome:
    """Verify the output bytes, and only if they pass write them (atomically, never over a
    different file)."""
    if not out_dir.is_dir():  # a look, not a mkdir: mkdir locks the parent for every file
        out_dir.mkdir(parents=True, exist_ok=True)
    try:
        problems = verify_output(done.output, done.identity, done.pseudonym)
    except Exception as exc:
        log.warning("Verification crashed: %s at %s", type(exc).__name__, _where(exc))
        problems = ["The safety check could not be completed."]
    if problems:
        key = content_key(data)
        message = "The de-identified copy failed the safety check: " + problems[0]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more problems)"
        store_quarantine(quarantine_dir, "verify_failed", message, key, done.output)
        return FileOutcome("quarantined", "verify_failed", message,
                           sop_instance_uid=done.new_uid, pseudonym=done.pseudonym,
                           bytes=len(data), source_key=key)
    target = out_dir / f"{done.new_uid}.dcm"
    try:
        placed = stage(target, done.output)
    except OSError as exc:
        log.warning("Writing a de-identified file failed: %s", type(exc).__name__)
        if is_disk_full(exc):  # not this file's fault: the job stops and resumes it
            return FileOutcome("failed", DISK_FULL,
                               f"The disk holding {out_dir} is full: nothing half-written "
                               "was kept.", bytes=len(data), source_key=content_key(data))
        return FileOutcome("failed", "write_error",
                           f"The de-identified file could not be written "
                           f"({type(exc).__name__}).",
                           bytes=len(data), source_key=content_key(data))
    if placed == "different":
        return FileOutcome("held_back", UID_CONFLICT, HOLD_REASONS[UID_CONFLICT],
                           sop_instance_uid=done.new_uid, pseudonym=done.pseudonym,
                           bytes=len(data), source_key=content_key(data),
                           output_key=content_key(done.output))
    return FileOutcome("deidentified", output=target, sop_instance_uid=done.new_uid,
                       pseudonym=done.pseudonym, bytes=len(done.output),
                       existing=placed == "same", output_key=content_key(done.output))
