"""How much the app agrees to read from one input: the caps that keep hostile files harmless.

Why caps at all: what nurses and PACS staff drop comes from many systems, and a small file can
stand for an enormous one (a 1.5 MB workbook whose one cell inflates to 1.5 GB, a 2 MB zip
holding 2 GB of zero pixels). Nothing is inflated blindly: every size the app is about to
read is checked against these caps first, and every read is counted against them, so memory
and disk use are bounded by the caps, never by the input.

Why settings: a site scanning whole-body CT at full resolution may need a larger image cap,
a site on small workstations a smaller one. The caps are machine policy keys (and user
settings unless IT locks them), read once per operation with :func:`current_limits`; the
values are text such as ``"2 GB"`` or ``"100"``, like every other setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")

#: Below this many inflated bytes a zip member or workbook part is never refused for its
#: compression ratio: tiny parts of a workbook (styles, an empty sheet) compress very well.
RATIO_GRACE_BYTES = 1 << 20


@dataclass(frozen=True)
class Limits:
    """The caps in force for one operation (see ``packaging/policy.example.toml``)."""

    #: Largest DICOM file accepted, on disk or inflated from a zip; also the most pixel
    #: data an image's header may describe.
    image_bytes: int = 2 * 10**9
    #: Largest inflated size of a zip member or workbook part as a multiple of its
    #: compressed size (beyond :data:`RATIO_GRACE_BYTES`).
    compression_ratio: int = 100
    #: Largest inflated size of one part of an ``.xlsx`` workbook (a sheet, the styles).
    workbook_part_bytes: int = 200 * 10**6
    #: Largest inflated size of a workbook part held whole in memory while reading: the
    #: shared strings (its text table), the styles, the workbook part.
    shared_strings_bytes: int = 50 * 10**6
    #: Most cells read from a sheet (rows x columns as the file lays them out).
    sheet_cells: int = 20_000_000

    def inflate_cap(self, compressed: int, ceiling: int) -> int:
        """The most bytes a member compressed to ``compressed`` bytes may inflate to."""
        return min(ceiling, max(RATIO_GRACE_BYTES, compressed * self.compression_ratio))


DEFAULT_LIMITS = Limits()

#: Setting name -> (Limits field, kind). The settings table (``config.definitions``) holds
#: the labels and defaults; this says how each value becomes a number.
SETTING_FIELDS: dict[str, tuple[str, str]] = {
    "max_image_size": ("image_bytes", "size"),
    "max_compression_ratio": ("compression_ratio", "count"),
    "max_workbook_part_size": ("workbook_part_bytes", "size"),
    "max_shared_strings_size": ("shared_strings_bytes", "size"),
    "max_sheet_cells": ("sheet_cells", "count"),
}


def parse_size(text: str) -> int:
    """``"2 GB"`` -> 2,000,000,000 (KB, MB, GB are powers of 1000, KiB, MiB, GiB of 1024)."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(text)
    value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise ValueError(text)
    return value


def parse_count(text: str) -> int:
    value = int(text.strip().replace(",", "").replace("_", ""))
    if value <= 0:
        raise ValueError(text)
    return value


def size_problem(text: str) -> str | None:
    try:
        parse_size(text)
    except ValueError:
        return 'must be a size such as "2 GB" or "500 MB"'
    return None


def count_problem(text: str) -> str | None:
    try:
        parse_count(text)
    except ValueError:
        return "must be a whole number above 0, for example 100"
    return None


def describe_size(size: int) -> str:
    """A size as people read it: ``2.1 GB``, ``340 MB``, ``12 KB``."""
    if size < 10**6:
        return f"{max(1, round(size / 1000))} KB"
    if size < 10**9:
        return f"{size / 10**6:.0f} MB"
    return f"{size / 10**9:.1f} GB"


def limits_from(values: dict[str, str]) -> Limits:
    """Limits from setting values by name (missing or empty ones keep their defaults)."""
    fields: dict[str, int] = {}
    for name, (field_name, kind) in SETTING_FIELDS.items():
        text = (values.get(name) or "").strip()
        if text:
            fields[field_name] = parse_size(text) if kind == "size" else parse_count(text)
    return Limits(**fields)


def current_limits() -> Limits:
    """The limits the machine policy and the user's settings set now (read on each call;
    call it once per operation). A broken policy file stops here with its own message."""
    from nccid_desktop.config.layers import resolve

    effective = resolve()
    return limits_from({name: effective.value(name) for name in SETTING_FIELDS})
