"""The two traversals of a de-identified instance, shared by its checks.

Why apart: :mod:`.conformance` (the profile, no source) and :mod:`.verifier` (the source's
identifying values on top) judge the same elements, walked as bytes (:mod:`..codec.raw_walk`)
or, when the walker steps aside, parsed by pydicom. Each traversal hands every element at
every depth to the check's hooks (``admit``, ``action``, ``sequence``, ``values``, ``binary``:
see :class:`~.conformance.ElementCheck`), so one rule is never written per traversal.
"""

from __future__ import annotations

import io
from typing import Any, Protocol

from pydicom import dcmread
from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from nccid_desktop.dicom.codec.raw_values import (
    codec_of,
    converted_texts,
    dataset_codec,
    element_vr,
    needs_conversion,
    raw_bytes,
    raw_texts,
)
from nccid_desktop.dicom.codec.raw_walk import Element, NeedsFullParser
from nccid_desktop.dicom.deid.profile import Action
from nccid_desktop.dicom.verify.rules import TEXT_VRS

FILE_META = "file meta > "
#: String VRs that are not free text: read, but searched only for what is not just digits.
OTHER_STRING_VRS = frozenset({"AS", "DA", "DS", "DT", "IS", "TM"})
#: What is read of an element as text; other values are bytes or numbers.
READ_VRS = TEXT_VRS | OTHER_STRING_VRS | {"UI", "SQ"}
#: Actions whose value the checks judge (kept, shifted and remapped values they cannot).
JUDGED = frozenset({Action.EMPTY, Action.DUMMY, Action.PSEUDONYM, Action.BIRTH_YEAR,
                    Action.SHIFT_DATE})
#: Values longer than this are not read when parsing (the pixel data).
DEFER_BYTES = 64 * 1024
UNDEFINED = 0xFFFFFFFF
KEEP = Action.KEEP
MAX_CACHED_ACTIONS = 65536
PIXEL_DATA_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})


class ElementCheck(Protocol):
    """The hooks a traversal calls for every element (implemented by
    :class:`~.conformance.ElementCheck`); a protocol here, so the two modules do not import
    each other."""

    data: Any
    unusual: Any
    action_cache: dict[tuple[int, str, bool, bool], Action]

    def admit(self, tag: int, path: str, in_meta: bool) -> bool: ...

    def action(self, tag: int, vr: str, dummy_scope: bool, in_meta: bool) -> Action: ...

    def sequence(self, tag: int, path: str, action: Action, items: int) -> bool: ...

    def values(self, tag: int, vr: str, texts: list[str], path: str, action: Action,
               in_meta: bool) -> None: ...

    def binary(self, tag: int, vr: str, value: bytes | None, length: int, path: str,
               action: Action) -> None: ...


def tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def walk_elements(check: ElementCheck, elements: list[Element], path: str,
                  codec: str | None, dummy_scope: bool = False) -> None:
    """Check walked elements (:mod:`..codec.raw_walk`) at every depth; raises
    :class:`NeedsFullParser` when a value needs pydicom's decoder."""
    data = check.data
    in_meta = path.startswith(FILE_META)
    unusual = check.unusual
    actions = check.action_cache
    for tag, vr, start, length, items in elements:
        if ((tag >> 16) & 1 or (tag >> 16) & 0xFF01 in (0x6000, 0x5000) or tag in unusual) \
                and not check.admit(tag, path, in_meta):
            continue  # only a private, overlay, removed or pixel tag needs admitting
        key = (tag, vr, dummy_scope, in_meta)
        action = actions.get(key)
        if action is None:
            if len(actions) > MAX_CACHED_ACTIONS:  # unusual files must not grow it for ever
                actions.clear()
            action = actions[key] = check.action(tag, vr, dummy_scope, in_meta)
        if items is not None:
            inner = check.sequence(tag, path, action, len(items)) or dummy_scope
            name = keyword_for_tag(tag) or tag_text(tag)
            for index, item in enumerate(items, start=1):
                walk_elements(check, item, f"{path}{name} item {index} > ",
                              codec_of(item, data, codec), inner)
        elif vr in READ_VRS:
            texts = raw_texts(data[start:start + length], vr, codec)
            if texts is None:
                raise NeedsFullParser("a character set only pydicom decodes")
            check.values(tag, vr, texts, path, action, in_meta)
        elif action is not KEEP and action in JUDGED:
            value = data[start:start + length] if length != UNDEFINED else None
            check.binary(tag, vr, value, length, path, action)


def walk_dataset(check: ElementCheck, ds: Dataset, path: str, codec: str | None,
                 dummy_scope: bool = False) -> None:
    """The same checks over a dataset pydicom parsed from ``check.data``."""
    in_meta = path.startswith(FILE_META)
    data = check.data if path in ("", FILE_META) else None  # offsets are the file's
    for base_tag, elem in list(ds._dict.items()):
        tag = int(base_tag)
        if not check.admit(tag, path, in_meta):
            continue
        vr = element_vr(elem)
        convert = needs_conversion(elem, vr)
        if vr not in READ_VRS and not convert:
            action = check.action(tag, vr, dummy_scope, in_meta)
            if action in JUDGED:
                value = raw_bytes(elem, data)
                length = len(value) if value is not None else getattr(elem, "length", 0)
                check.binary(tag, vr, value, length, path, action)
            continue
        texts = None
        if vr != "SQ" and not convert:
            value = raw_bytes(elem, data)
            texts = raw_texts(value, vr, codec) if value is not None else None
        if texts is None:
            converted = ds[tag]
            vr = converted.VR
            action = check.action(tag, vr, dummy_scope, in_meta)
            if vr == "SQ":
                items = converted.value or ()
                inner = check.sequence(tag, path, action, len(items)) or dummy_scope
                name = keyword_for_tag(tag) or tag_text(tag)
                for index, item in enumerate(items, start=1):
                    walk_dataset(check, item, f"{path}{name} item {index} > ",
                                 dataset_codec(item, codec), inner)
                continue
            if isinstance(converted.value, (bytes, bytearray)):
                if vr != "UN":
                    if action in JUDGED:
                        check.binary(tag, vr, bytes(converted.value), len(converted.value),
                                     path, action)
                    continue
                texts = [bytes(converted.value).decode("latin-1")]
            else:
                texts = converted_texts(converted.value)
        else:
            action = check.action(tag, vr, dummy_scope, in_meta)
        check.values(tag, vr, texts, path, action, in_meta)


def parse_output(data: Any) -> Dataset:
    """The instance parsed without reading its pixel data, unless the end of a value that was
    not read cannot be known (an encapsulated one): then everything is read."""
    ds = dcmread(io.BytesIO(data), defer_size=DEFER_BYTES)
    if any(isinstance(e, RawDataElement) and e.value is None and e.length == UNDEFINED
           for e in ds._dict.values()):
        ds = dcmread(io.BytesIO(data))
    return ds
