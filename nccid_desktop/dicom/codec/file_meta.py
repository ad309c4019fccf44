"""The transfer syntax of a Part 10 file and where its file meta ends, from its first bytes.

Why: the deflated transfer syntax compresses the whole data set, and pydicom inflates it all
at once, however big; the caller needs to know, before pydicom reads a file, whether it is
deflated and where the compressed bytes start, to check their inflated size first
(:func:`nccid_desktop.bounded.check_inflated`).
"""

from __future__ import annotations

import struct

DEFLATED = "1.2.840.10008.1.2.1.99"
_PREAMBLE_END = 132
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                       b"UR", b"UT", b"UV"})
#: The file meta is small; a "meta" longer than this is not read further.
META_READ = 64 * 1024


def transfer_syntax_and_data_start(head: bytes) -> tuple[str, int] | None:
    """(transfer syntax UID, offset of the data set) of a file starting with ``head``
    (preamble, ``DICM`` and explicit VR little endian group 0002), or None."""
    if len(head) < _PREAMBLE_END or head[128:132] != b"DICM":
        return None
    pos, syntax = _PREAMBLE_END, ""
    while pos + 8 <= len(head) and head[pos:pos + 2] == b"\x02\x00":
        (number,) = struct.unpack_from("<H", head, pos + 2)
        vr = head[pos + 4:pos + 6]
        if vr in _LONG_VRS:
            if pos + 12 > len(head):
                return None
            (length,) = struct.unpack_from("<I", head, pos + 8)
            start = pos + 12
        else:
            (length,) = struct.unpack_from("<H", head, pos + 6)
            start = pos + 8
        if start + length > len(head):
            return None
        if number == 0x0010:
            syntax = head[start:start + length].decode("latin-1").strip(" \x00")
        pos = start + length
    return syntax, pos
