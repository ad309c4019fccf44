"""The attributes that say a file was de-identified, and how (PS3.15 E.1, CID 7050).

Why apart from :mod:`.pydicom_reference`: they are the same in every output, so they are encoded
once per transfer syntax and copied into each dataset as raw elements; building their
pydicom datasets per file cost a fifth of de-identifying a CT slice.
"""

from __future__ import annotations

import io
from functools import cache

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

from nccid_desktop import __version__
from nccid_desktop.dicom.deid.profile import METHOD_CODES, METHOD_TEXT

#: ImplementationVersionName of every output's file meta (SH: 16 characters at most).
IMPLEMENTATION_VERSION = f"NCCID_{__version__}"[:16]


def mark_deidentified(ds: Dataset) -> None:
    """Add the four attributes, copied from their encoding in the dataset's transfer syntax,
    or built when the dataset was made in memory and has no encoding yet."""
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        _build_marks(ds)
        return
    for raw in encoded_marks(implicit, little):
        ds[raw.tag] = raw


@cache
def encoded_marks(implicit: bool, little: bool) -> tuple[RawDataElement, ...]:
    """The four attributes as raw elements encoded in the given transfer syntax, by tag."""
    marks = Dataset()
    _build_marks(marks)
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit, little
    write_dataset(fp, marks)
    encoded = read_dataset(io.BytesIO(fp.getvalue()), implicit, little)
    return tuple(e for e in encoded._dict.values() if isinstance(e, RawDataElement))


def _build_marks(ds: Dataset) -> None:
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = list(METHOD_TEXT)
    codes = Sequence()
    for value, meaning in METHOD_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        codes.append(item)
    ds.DeidentificationMethodCodeSequence = codes
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
