"""Read a source file: its pydicom dataset and what identifies its patient, or why it cannot be.

Why apart from :mod:`.one_file`: reading is where a file is judged readable, and where the
source's bytes are walked once (:mod:`..codec.raw_walk`) for both the identity the verifier needs
and the dataset the de-identifier edits (:mod:`..codec.source_dataset`); ``dcmread`` reads what the
walk leaves to it.
"""

from __future__ import annotations

import io

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from nccid_desktop.dicom.codec.raw_walk import NeedsFullParser, Part10, walk_part10
from nccid_desktop.dicom.codec.source_dataset import dataset_from_walk
from nccid_desktop.dicom.verify.identity import SourceIdentity


class SourceUnreadable(Exception):
    """The file cannot be read as DICOM; ``code`` and ``message`` say why, no value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


_UNDEFINED_LENGTH = 0xFFFFFFFF
#: Values longer than this (pixel data) are not read into memory when the source is parsed:
#: the encoder copies them once, from the source bytes into the output.
DEFER_BYTES = 64 * 1024


def _require_complete(ds: Dataset, size: int) -> Dataset:
    """pydicom reads a file cut short without complaint; a short last value betrays it."""
    for elem in ds._dict.values():
        if not isinstance(elem, RawDataElement) or elem.length == _UNDEFINED_LENGTH:
            continue
        short = (elem.value_tell + elem.length > size if elem.value is None
                 else len(elem.value) != elem.length)
        if short:
            raise SourceUnreadable(
                "truncated", "The file is incomplete (cut short, perhaps by a failed copy).")
    return ds


def _read_dataset(data: bytes) -> Dataset:
    try:
        return _require_complete(dcmread(io.BytesIO(data), defer_size=DEFER_BYTES), len(data))
    except SourceUnreadable:
        raise
    except InvalidDicomError:
        pass  # no preamble: may still be a bare dataset, checked below
    except Exception as exc:
        raise SourceUnreadable("corrupt", "The file looks like DICOM but is damaged.") from exc
    try:
        ds = dcmread(io.BytesIO(data), force=True, defer_size=DEFER_BYTES)
        if "SOPClassUID" in ds and "SOPInstanceUID" in ds:
            return _require_complete(ds, len(data))
    except SourceUnreadable:
        raise
    except Exception as exc:
        raise SourceUnreadable("not_dicom", "The file is not a DICOM image.") from exc
    raise SourceUnreadable("not_dicom", "The file is not a DICOM image.")


def read_source(data: bytes, walked: Part10 | None = None) -> tuple[Dataset, SourceIdentity]:
    """The source's dataset and identity from one walk of its bytes (:mod:`..codec.raw_walk`;
    ``walked`` when the caller walked them already); ``dcmread`` reads what the walk leaves to
    it, and judges a file the walk cannot build."""
    if walked is None:
        try:
            walked = walk_part10(data)
        except NeedsFullParser:
            ds = _read_dataset(data)
            return ds, SourceIdentity.from_dataset(ds)
    try:
        ds = _require_complete(dataset_from_walk(data, walked, DEFER_BYTES), len(data))
    except Exception:  # dcmread reads it, or says why it cannot
        ds = _read_dataset(data)
    return ds, SourceIdentity.from_source(data, ds, walked)
