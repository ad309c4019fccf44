"""Whether an image's pixel data fits what its header says, and the size cap: before any copy.

Why: the pixel data of a DICOM file is a length and a run of bytes; nothing forces it to match
the image it claims to be. A file whose header says 512 x 512 but carries 2 GB of (zero)
pixel data, or whose header describes a 60,000 x 60,000 x 1,000-frame image that a viewer
would try to allocate, is damaged or made to exhaust memory, and is refused with a reason.
Native pixel data must be no longer than rows x columns x frames x samples x bits allocated
(rounded up to whole bytes and an even length) plus some padding (real files pad their pixel
data: by 128 bytes in pydicom's ``MR_small_padded.dcm``; see :func:`padding_allowed`); the
size that product describes must be within the image cap, compressed or not. Both the raw
walk (:mod:`.raw_walk`) and a pydicom dataset can be checked, so every de-identification
path is.
"""

from __future__ import annotations

import struct
from typing import Any

from nccid_desktop.dicom.codec.raw_walk import PIXEL_DATA_ORDER, UNDEFINED, Part10
from nccid_desktop.limits import Limits, describe_size

_ROWS, _COLUMNS, _FRAMES = 0x00280010, 0x00280011, 0x00280008
_SAMPLES, _BITS = 0x00280002, 0x00280100
_WANTED = frozenset({_ROWS, _COLUMNS, _FRAMES, _SAMPLES, _BITS, *PIXEL_DATA_ORDER})


class PixelRefusal(Exception):
    """The pixel data cannot be accepted; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def described_bytes(rows: int, columns: int, frames: int, samples: int, bits: int) -> int:
    """Bytes of native pixel data the header describes (even length, as DICOM stores it)."""
    size = (rows * columns * frames * samples * bits + 7) // 8
    return size + (size & 1)


def padding_allowed(described: int) -> int:
    """Bytes of pixel data beyond what the header describes that are taken as padding."""
    return max(64 * 1024, described // 8)


def check_extent(rows: int | None, columns: int | None, frames: int | None,
                 samples: int | None, bits: int | None, pixel_length: int | None,
                 limits: Limits) -> None:
    """Raise :class:`PixelRefusal` unless the pixel data fits the header and the cap.

    ``pixel_length`` is None without pixel data, ``UNDEFINED`` when encapsulated. A header
    that does not say how big its image is can only carry encapsulated data (checked by
    the file cap alone), or a few kilobytes of native data.
    """
    if pixel_length is None:
        return
    known = None not in (rows, columns, bits)
    if known:
        described = described_bytes(rows or 0, columns or 0, max(1, frames or 1),
                                    max(1, samples or 1), bits or 0)
        if described > limits.image_bytes:
            raise PixelRefusal(
                "pixels_too_large",
                f"The image's header describes {describe_size(described)} of pixel data, over "
                f"the {describe_size(limits.image_bytes)} limit (max_image_size); if the image "
                "is genuine, ask IT to raise that limit.")
    if pixel_length == UNDEFINED:
        return
    if not known:
        if pixel_length > padding_allowed(0):
            raise PixelRefusal("pixel_data_mismatch",
                               f"The image has {describe_size(pixel_length)} of pixel data but "
                               "its header does not say how big the image is (rows, columns, "
                               "bits): the file is damaged. Ask PACS to export it again.")
        return
    if pixel_length > described + padding_allowed(described):
        raise PixelRefusal(
            "pixel_data_mismatch",
            f"The image's pixel data ({describe_size(pixel_length)}) is larger than its header "
            f"describes ({describe_size(described)}): the file is damaged or made to mislead. "
            "Ask PACS to export it again.")


def _number(data: bytes, vr: str, offset: int, length: int, little: bool) -> int | None:
    raw = data[offset:offset + length]
    if vr.startswith("US") or vr == "SS" or (vr in ("OB or OW", "UN", "OW") and length == 2):
        if len(raw) < 2:
            return None
        return int(struct.unpack("<H" if little else ">H", raw[:2])[0])
    try:
        return int(raw.split(b"\\")[0].strip(b" \x00") or b"x")
    except ValueError:
        return None


def check_walked(data: bytes, walked: Part10, limits: Limits) -> None:
    """:func:`check_extent` on a walked file (top-level elements only)."""
    found: dict[int, Any] = {}
    pixel_length = None
    for tag, vr, offset, length, _items in walked.dataset:
        if tag not in _WANTED:
            continue
        if tag in PIXEL_DATA_ORDER:
            if pixel_length is None:
                pixel_length = length
            continue
        found[tag] = _number(data, vr, offset, length, walked.little)
    check_extent(found.get(_ROWS), found.get(_COLUMNS), found.get(_FRAMES),
                 found.get(_SAMPLES), found.get(_BITS), pixel_length, limits)


def _dataset_number(ds: Any, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        return int(value[0] if isinstance(value, (list, tuple)) else value)
    except (TypeError, ValueError, OverflowError):
        return None


def check_dataset(ds: Any, limits: Limits) -> None:
    """:func:`check_extent` on a pydicom dataset (raw elements are not converted)."""
    pixel_length = None
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            element = ds.get_item(keyword)
            length = getattr(element, "length", None)  # a raw element knows its length
            if length is None:
                if getattr(element, "is_undefined_length", False):
                    length = UNDEFINED
                else:
                    value = element.value
                    length = len(value) if value is not None else 0
            pixel_length = length
            break
    check_extent(_dataset_number(ds, "Rows"), _dataset_number(ds, "Columns"),
                 _dataset_number(ds, "NumberOfFrames"), _dataset_number(ds, "SamplesPerPixel"),
                 _dataset_number(ds, "BitsAllocated"), pixel_length, limits)
