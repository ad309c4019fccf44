"""Reading the few header attributes a scan needs from one file, without touching pixels.

Why a module of its own: this is the code that runs in worker processes, so it must be cheap
to import, picklable in and out (plain values only), and must never raise: a PACS export
mixes images with thumbnails, reports and damaged files, and each of those is a counted,
explained :class:`SkippedFile`, not a failed scan. Nothing here logs: values read from a
header may identify a patient, and file names may contain one.

Most files are read by :mod:`header_parser` from their first bytes; pydicom reads the rest
(raw data sets, big endian, deflate, other character sets), with the same results.
"""

from __future__ import annotations

import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

import pydicom
from pydicom.tag import Tag

from nccid_desktop.bounded import TooLarge, check_inflated
from nccid_desktop.dicom.codec.file_meta import DEFLATED, META_READ, transfer_syntax_and_data_start
from nccid_desktop.dicom.codec.header_parser import read_fast
from nccid_desktop.dicom.risk import Risk, burned_in_text_risk
from nccid_desktop.dicom.scan.model import SkippedFile
from nccid_desktop.dicom.scan.sources import IMAGE_SETTING, SUBJECT, SourceFile
from nccid_desktop.limits import DEFAULT_LIMITS, Limits

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
PREAMBLE_LENGTH = 128
MAGIC = b"DICM"
#: Value representations, to recognise an explicit-VR data set written without a preamble.
_VRS = frozenset(
    b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)
#: Groups a raw (preamble-less) data set may start with: file meta, identifying, patient.
_FIRST_GROUPS = frozenset({0x0002, 0x0008, 0x0010})

#: Keywords read from each file; everything else is skipped unparsed.
HEADER_KEYWORDS = (
    "PatientID", "PatientName", "PatientSex",
    "StudyInstanceUID", "StudyDate", "StudyDescription",
    "SeriesInstanceUID", "SeriesNumber", "SeriesDate", "SeriesDescription", "Modality",
    "BodyPartExamined", "ProtocolName", "AcquisitionDate", "ContentDate",
    "SOPInstanceUID", "SOPClassUID", "ImageType", "BurnedInAnnotation", "ConversionType",
)
_TAGS = {keyword: Tag(keyword) for keyword in HEADER_KEYWORDS}
_KEYWORDS_BY_TAG = {int(tag): keyword for keyword, tag in _TAGS.items()}
_DECODED = frozenset({"PatientName", "StudyDescription", "SeriesDescription", "ProtocolName"})
#: How much of a file the fast path reads first, then at most (headers before group 0028).
FAST_READ_SIZES = (16 * 1024, 256 * 1024)
_MEDIA_SOP_CLASS, _TRANSFER_SYNTAX = 0x00020002, 0x00020010


@dataclass(frozen=True)
class FileHeader:
    """What the scan keeps from one readable DICOM file (plain values, cheap to pickle)."""

    source: SourceFile = field(repr=False)
    values: dict[str, str] = field(repr=False)
    transfer_syntax_uid: str
    risk: Risk | None
    #: Why the image is held back (a code of :data:`..model.HOLD_REASONS`), or None.
    hold: str | None = None

    def get(self, keyword: str) -> str:
        return self.values.get(keyword, "")

    @property
    def image_date(self) -> date | None:
        """The date the image was made, from the most specific date attribute present."""
        for keyword in ("AcquisitionDate", "ContentDate", "SeriesDate", "StudyDate"):
            parsed = parse_dicom_date(self.get(keyword))
            if parsed is not None:
                return parsed
        return None


def parse_dicom_date(text: str) -> date | None:
    """A DA value (``YYYYMMDD``, or the old ``YYYY.MM.DD``) as a date; None when unusable."""
    digits = text.strip().replace(".", "").replace("-", "")[:8]
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def looks_like_raw_dataset(head: bytes) -> bool:
    """True when the first bytes are a plausible little-endian DICOM element (no preamble).

    Why check before ``force=True``: forcing pydicom on a JPEG or a PDF "parses" garbage; a
    file whose first tag is not from a group a data set starts with is simply not DICOM.
    """
    if len(head) < 8:
        return False
    if struct.unpack(">H", head[:2])[0] in _FIRST_GROUPS and head[4:6] in _VRS:
        return True  # explicit VR big endian, retired but still found in old archives
    group, _element = struct.unpack("<HH", head[:4])
    if group not in _FIRST_GROUPS:
        return False
    if head[4:6] in _VRS:
        return True
    (length,) = struct.unpack("<I", head[4:8])
    return length < 0x10000


def _text(dataset: pydicom.Dataset, keyword: str) -> str:
    """One attribute as text: undecoded bytes for codes and UIDs, pydicom's decoding for
    free text and names (character sets). Multiple values are joined with a backslash."""
    if keyword in _DECODED:
        value = dataset.get(keyword)
        if value is None:
            return ""
        if isinstance(value, pydicom.multival.MultiValue):
            return "\\".join(str(v) for v in value).strip(" \x00").strip()
        return str(value).strip(" \x00").strip()
    element = dataset.get_item(_TAGS[keyword])
    if element is None:
        return ""
    raw = element.value
    if isinstance(raw, bytes):
        return raw.decode("latin-1").strip(" \x00")
    if raw is None:
        return ""
    if isinstance(raw, (list, tuple, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in raw)
    return str(raw).strip(" \x00")


def _classify_unparsed(head: bytes, source: SourceFile) -> SkippedFile:
    if head.startswith(b"PK\x03\x04"):
        if source.member is not None:
            return SkippedFile(source, "not_dicom",
                               "A zip archive inside another zip archive; unpack it first.")
        if source.path.suffix.lower() == ".zip":
            return SkippedFile(source, "corrupt", "A damaged zip archive that cannot be opened.")
        return SkippedFile(source, "not_dicom", "A zip archive whose name does not end in "
                                                ".zip; rename it and scan again.")
    return SkippedFile(source, "not_dicom", "Not a DICOM file.")


def _read_fast(handle: BinaryIO, head: bytes) -> tuple[dict[str, str], str, str] | None:
    """(values, media SOP class, transfer syntax) by the fast path, or None."""
    for size in FAST_READ_SIZES:
        if len(head) < size:
            head += handle.read(size - len(head))
        parsed = read_fast(head, _KEYWORDS_BY_TAG, _DECODED, complete=len(head) < size)
        if parsed is not None:
            values, meta = parsed
            return values, meta.get(_MEDIA_SOP_CLASS, ""), meta.get(_TRANSFER_SYNTAX, "")
        if len(head) < size:
            return None
    return None


def _check_deflated(handle: BinaryIO, source: SourceFile, limits: Limits) -> None:
    """pydicom inflates a deflated data set whole: count its inflated size first."""
    handle.seek(0)
    found = transfer_syntax_and_data_start(handle.read(META_READ))
    if found is not None and found[0] == DEFLATED:
        handle.seek(found[1])
        check_inflated(handle, max(1, source.size - found[1]), limits.image_bytes, limits,
                       subject=SUBJECT, setting=IMAGE_SETTING)


def _read_pydicom(handle: BinaryIO, has_preamble: bool, source: SourceFile,
                  limits: Limits) -> tuple[dict[str, str], str, str]:
    if has_preamble:
        _check_deflated(handle, source, limits)
    handle.seek(0)
    dataset = pydicom.dcmread(handle, stop_before_pixels=True, force=not has_preamble,
                              specific_tags=list(_TAGS.values()))
    meta = dataset.file_meta
    values = {keyword: _text(dataset, keyword) for keyword in HEADER_KEYWORDS}
    media_class = str(meta.get("MediaStorageSOPClassUID", "") or "").strip(" \x00")
    transfer_syntax = str(meta.get("TransferSyntaxUID", "") or "").strip(" \x00")
    return values, media_class, transfer_syntax


def _read(handle: BinaryIO, source: SourceFile, limits: Limits, *,
          fast: bool = True) -> FileHeader | SkippedFile:
    head = handle.read(PREAMBLE_LENGTH + len(MAGIC))
    has_preamble = head[PREAMBLE_LENGTH:] == MAGIC
    if not has_preamble and not looks_like_raw_dataset(head):
        return _classify_unparsed(head, source)
    try:
        parsed = _read_fast(handle, head) if fast and has_preamble else None
        values, media_class, transfer_syntax = parsed or _read_pydicom(handle, has_preamble,
                                                                       source, limits)
    except (OSError, zlib.error, EOFError, TooLarge):
        raise  # the bytes could not be read at all, or were refused: not "damaged"
    except Exception:  # a hostile or damaged file: counted and explained, never fatal
        return SkippedFile(source, "corrupt", "A damaged DICOM file that cannot be read.")
    if media_class == DICOMDIR_SOP_CLASS:
        return SkippedFile(source, "index", "A DICOMDIR index, not an image.")
    if not values["SOPInstanceUID"]:
        return SkippedFile(source, "corrupt",
                           "An incomplete or damaged DICOM file (it has no SOP Instance UID).")
    if not values["StudyInstanceUID"] or not values["SeriesInstanceUID"]:
        return SkippedFile(source, "corrupt",
                           "An incomplete DICOM file (it has no study or series UID).")
    risk = burned_in_text_risk(values)
    return FileHeader(source, values, transfer_syntax, risk)


class _ArchiveCache:
    """Keeps the last zip archive open, since a chunk of members usually shares one archive."""

    def __init__(self) -> None:
        self._path: object = None
        self._archive: zipfile.ZipFile | None = None

    def open(self, source: SourceFile, limits: Limits) -> BinaryIO:
        if source.member is None:
            source.check_size(limits)
            return open(source.path, "rb")
        if self._archive is None or self._path != source.path:
            self.close()
            self._archive = zipfile.ZipFile(source.path)
            self._path = source.path
        return source.open_member(self._archive, limits)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
        self._archive = None
        self._path = None


def read_header(source: SourceFile, archives: _ArchiveCache | None = None, *,
                fast: bool = True, limits: Limits = DEFAULT_LIMITS) -> FileHeader | SkippedFile:
    """The scan's view of one file; never raises. ``fast=False`` reads with pydicom only.

    A file beyond ``limits`` (its size, a zip member's declared or actual inflated size, a
    deflated data set's inflated size) is a ``refused`` SkippedFile with the reason.
    """
    cache = archives or _ArchiveCache()
    try:
        with cache.open(source, limits) as handle:
            return _read(handle, source, limits, fast=fast)
    except TooLarge as refusal:
        return SkippedFile(source, "refused", refusal.message)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError):
        return SkippedFile(source, "unreadable", "The file could not be opened or read.")
    except (RuntimeError, NotImplementedError):  # zip members: encrypted, unknown compression
        return SkippedFile(source, "unreadable",
                           "The file is encrypted or compressed in a way that cannot be read.")
    finally:
        if archives is None:
            cache.close()


def read_headers(sources: list[SourceFile],
                 limits: Limits = DEFAULT_LIMITS) -> list[FileHeader | SkippedFile]:
    """Headers of a chunk of files, in order: the unit of work of one worker process."""
    archives = _ArchiveCache()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warnings may quote header values
            return [read_header(source, archives, limits=limits) for source in sources]
    finally:
        archives.close()
