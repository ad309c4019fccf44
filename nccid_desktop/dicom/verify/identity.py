"""What identified the patient in a source file: the needles the verifier looks for.

Why apart from :mod:`.verifier`: collecting happens before de-identification, checking after;
both read raw values through :mod:`..codec.raw_values` (pydicom converts only what it must), because
converting a whole header was the largest cost of the second check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.datadict import tag_for_keyword
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
from nccid_desktop.dicom.codec.raw_walk import Element, NeedsFullParser, Part10, walk_part10
from nccid_desktop.dicom.verify.rules import (
    CLASS_UID_KEYWORDS,
    IDENTIFYING_KEYWORDS,
    MIN_NEEDLE_LENGTH,
    STANDARD_UID_ROOT,
)

IDENTIFYING_TAGS = frozenset(t for k in IDENTIFYING_KEYWORDS if (t := tag_for_keyword(k)))
CLASS_UID_TAGS = frozenset(t for k in CLASS_UID_KEYWORDS if (t := tag_for_keyword(k)))
_IDENTITY_VRS = frozenset({"SQ", "PN", "UI", "UN"})
_BIRTH_DATE = 0x00100030
_NAME_SPLIT = re.compile(r"[\^=\s,]+")
_ALNUM = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class SourceIdentity:
    """What identified the patient in a source file, collected before it is de-identified.

    ``strings`` are whole names in ``^``-joined and space-joined forms, IDs, accession
    number, birth date, addresses, institution: a string with a digit is matched anywhere
    (case-insensitive substring), one without as a whole token (see :mod:`.verifier`).
    ``words`` are name components (>= 3 characters) matched as whole words, so that a short
    surname such as "ANN" is found in "SMITH ANN" but not in "SCANNER".
    ``uids`` are the source's UIDs outside the DICOM root, all of which must have changed.
    """

    strings: frozenset[str]
    uids: frozenset[str]
    words: frozenset[str] = frozenset()

    @classmethod
    def from_dataset(cls, ds: Dataset) -> SourceIdentity:
        """Collect from every level of ``ds`` and its file meta. Call BEFORE de-identifying."""
        found = _Found()
        found.dataset(ds, dataset_codec(ds))
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            found.dataset(meta, "latin-1")
        return found.identity()

    @classmethod
    def from_source(cls, data: bytes, ds: Dataset, walked: Part10 | None = None
                    ) -> SourceIdentity:
        """Collect from the source's bytes ``data``, walked (:mod:`..codec.raw_walk`; ``walked`` if
        the caller walked them already) when they can be, else from ``ds``, the dataset
        pydicom read from them. Call BEFORE de-identifying ``ds``. A walk costs a fraction
        of reading pydicom's datasets, and leaves the source's sequences unparsed."""
        try:
            return cls.from_walk(data, walked or walk_part10(data))
        except NeedsFullParser:
            return cls.from_dataset(ds)

    @classmethod
    def from_walk(cls, data: bytes, walked: Part10) -> SourceIdentity:
        """Collect from the walk of ``data`` alone; raises :class:`NeedsFullParser` when a
        character set needs pydicom's decoder."""
        found = _Found()
        found.walked(walked.dataset, data, codec_of(walked.dataset, data, "latin-1"))
        found.walked(walked.meta, data, "latin-1")
        return found.identity()

    @property
    def is_empty(self) -> bool:
        return not (self.strings or self.words or self.uids)


class _Found:
    """Names, UIDs and identifying values at every depth, decoding nothing else.

    Why: most of a CT header is numbers the identity does not need; the raw element already
    says its VR, so only names, UIDs, identifying attributes and sequences are read.
    """

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.words: set[str] = set()
        self.uids: set[str] = set()

    def dataset(self, ds: Dataset, codec: str | None) -> None:
        for tag, elem in list(ds._dict.items()):
            vr = element_vr(elem)
            if vr not in _IDENTITY_VRS and tag not in IDENTIFYING_TAGS and " or " not in vr:
                continue
            texts = None
            if vr != "SQ" and not needs_conversion(elem, vr):
                value = raw_bytes(elem, None)
                texts = raw_texts(value, vr, codec) if value is not None else None
            if texts is None:
                converted = ds[tag]
                vr = converted.VR
                if vr == "SQ":
                    for item in converted.value or ():
                        self.dataset(item, dataset_codec(item, codec))
                    continue
                texts = converted_texts(converted.value)
            self.values(tag, vr, texts)

    def walked(self, elements: list[Element], data: bytes, codec: str | None) -> None:
        for tag, vr, start, length, items in elements:
            if items is not None:
                for item in items:
                    self.walked(item, data, codec_of(item, data, codec))
            elif vr in _IDENTITY_VRS or tag in IDENTIFYING_TAGS:
                texts = raw_texts(data[start:start + length], vr, codec)
                if texts is None:
                    raise NeedsFullParser("a character set only pydicom decodes")
                self.values(tag, vr, texts)

    def identity(self) -> SourceIdentity:
        return SourceIdentity(frozenset(self.strings), frozenset(self.uids),
                              frozenset(self.words - self.strings))

    def values(self, tag: int, vr: str, texts: list[str]) -> None:
        if vr == "UI":
            if tag not in CLASS_UID_TAGS:
                self.uids.update(v for v in texts if not v.startswith(STANDARD_UID_ROOT))
        elif vr == "PN":
            for name in texts:
                self.name(name)
        elif tag in IDENTIFYING_TAGS:
            for text in texts:
                if tag == _BIRTH_DATE and text.endswith("0101"):
                    continue  # equals its year-reduced form, which the profile keeps on purpose
                if len(text) >= MIN_NEEDLE_LENGTH and _ALNUM.search(text):
                    self.strings.add(text.upper())

    def name(self, name: str) -> None:
        trimmed = name.strip("^= ")
        parts = [p for p in _NAME_SPLIT.split(trimmed) if p]
        parts = [p for p in parts if _ALNUM.search(p)]  # "----" is a placeholder, not a name
        for form in (trimmed, "^".join(parts), " ".join(parts), " ".join(reversed(parts))):
            if len(form) >= MIN_NEEDLE_LENGTH and _ALNUM.search(form):
                self.strings.add(form.upper())
        self.words.update(p.upper() for p in parts if len(p) >= MIN_NEEDLE_LENGTH)
