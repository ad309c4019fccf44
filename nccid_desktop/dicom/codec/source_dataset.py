"""The pydicom dataset of a source file, built from its walked bytes: what ``dcmread`` builds.

Why: the source is walked anyway (:mod:`.raw_walk`) to collect what identifies the patient,
and ``dcmread`` then parsed the same bytes a second time, one Python call per element, a
seventh of the time of de-identifying a CT slice. This builds the same ``FileDataset`` from
the walk: the same raw elements (tag, VR, length, value bytes, offset, encoding), deferred
values left unread above the same size, undefined-length sequences read by pydicom itself,
the same file meta and encodings; ``tests/dicom/test_source_dataset.py`` compares the two
on every file pydicom ships. What the walk leaves to pydicom, or what ``dcmread`` would read
in a way this module does not copy (command sets, encapsulated pixel data, an empty
dataset), raises :class:`~.raw_walk.NeedsFullParser`: the caller then uses ``dcmread``.
"""

from __future__ import annotations

import io
from typing import Any

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filereader import read_sequence
from pydicom.tag import BaseTag
from pydicom.values import convert_string

from nccid_desktop.dicom.codec.raw_walk import UNDEFINED, Element, NeedsFullParser, Part10

_CHARSET = 0x00080005


def dataset_from_walk(data: bytes, walked: Part10, defer_size: int) -> FileDataset:
    """``dcmread(BytesIO(data), defer_size=defer_size)``, from the walk of ``data``."""
    if not walked.dataset or walked.dataset[0][0] >> 16 == 0:
        raise NeedsFullParser("an empty dataset or a command set")
    buffer = io.BytesIO(data)
    meta = FileMetaDataset(_elements(walked.meta, data, buffer, False, True, None))
    meta.set_original_encoding(False, True, default_encoding)
    _read_as_dcmread_reads(meta)
    implicit, little = walked.implicit, walked.little
    elements = _elements(walked.dataset, data, buffer, implicit, little, defer_size)
    dataset = Dataset(elements)
    encoding: Any = default_encoding
    charset = elements.get(BaseTag(_CHARSET))
    if isinstance(charset, RawDataElement):
        encoding = convert_encodings(convert_string(charset.value or b"", little))
    dataset.set_original_encoding(implicit, little, encoding)
    ds = FileDataset(buffer, dataset, data[:128], meta, implicit, little)
    ds.set_original_encoding(implicit, little, dataset._character_set)
    return ds


def _read_as_dcmread_reads(meta: FileMetaDataset) -> None:
    """Decode the meta elements ``dcmread`` decodes while reading, as it leaves them."""
    if meta._dict:
        _ = meta[next(iter(meta._dict))]
    if "FileMetaInformationGroupLength" in meta:
        _ = meta.FileMetaInformationGroupLength
    _ = meta.get("TransferSyntaxUID")


def _elements(walked: list[Element], data: bytes, buffer: io.BytesIO, implicit: bool,
              little: bool, defer_size: int | None) -> dict[BaseTag, Any]:
    """The elements of one walked level as ``data_element_generator`` yields them."""
    elements: dict[BaseTag, Any] = {}
    encoding: Any = default_encoding
    for tag, vr, start, length, items in walked:
        written_vr = None if implicit else vr
        if length == UNDEFINED:
            if items is None:
                raise NeedsFullParser("encapsulated pixel data: dcmread's to read")
            buffer.seek(start)
            sequence = read_sequence(buffer, implicit, little, UNDEFINED, encoding)
            elements[BaseTag(tag)] = DataElement(BaseTag(tag), "SQ", sequence, start,
                                                 is_undefined_length=True)
            continue
        if defer_size is not None and length > defer_size and tag != _CHARSET:
            value: Any = None
        elif length:
            value = data[start:start + length]
        else:
            value = empty_value_for_VR(written_vr, raw=True)
        if tag == _CHARSET:
            encoding = convert_encodings(convert_string(value or b"", little))
        elements[BaseTag(tag)] = RawDataElement(BaseTag(tag), written_vr, length, value, start,
                                                implicit, little)
    return elements
