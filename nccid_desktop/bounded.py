"""Reading zip members and compressed streams without inflating anything blindly.

Why: a zip entry (a DICOM file in an export, a part of an ``.xlsx`` workbook) says how big it
will be once inflated, and a deflate stream can grow a thousand times. So before a byte is
inflated, the declared size is checked against the cap that applies (:mod:`.limits`) and
against the compression ratio policy; while reading, the actual bytes are counted against the
same cap, so a member that lies about its size is stopped at the cap too. A refusal is a
:class:`TooLarge` whose message says what and why in plain words (no value from inside the
file); callers add which file, and carry on with the rest of the drop.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from typing import IO, Any, BinaryIO

from nccid_desktop.limits import RATIO_GRACE_BYTES, Limits, describe_size

_CHUNK = 1 << 16


class TooLarge(Exception):
    """An input refused by a size cap; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def too_big(subject: str, size: int, cap: int, setting: str, *, at_least: bool = False) -> TooLarge:
    amount = f"more than {describe_size(cap)}" if at_least else describe_size(size)
    return TooLarge("too_large",
                    f"{subject} is {amount} once unpacked, over the {describe_size(cap)} "
                    f"limit ({setting}); if it is genuine, ask IT to raise that limit.")


def bomb(subject: str, size: int, compressed: int, limits: Limits, *,
         at_least: bool = False) -> TooLarge:
    times = size // max(1, compressed)
    return TooLarge("compression_bomb",
                    f"{subject} would unpack from {describe_size(compressed)} to "
                    f"{'more than ' if at_least else ''}{describe_size(size)} "
                    f"({'over ' if at_least else ''}{times:,} times), over the limit of "
                    f"{limits.compression_ratio} times (max_compression_ratio): it looks like a "
                    "decompression bomb and was not unpacked.")


def check_member(info: zipfile.ZipInfo, ceiling: int, limits: Limits, *, subject: str,
                 setting: str) -> None:
    """Raise :class:`TooLarge` when the member's declared sizes break a cap."""
    if (info.compress_type != zipfile.ZIP_STORED and info.file_size > RATIO_GRACE_BYTES
            and info.file_size > info.compress_size * limits.compression_ratio):
        raise bomb(subject, info.file_size, info.compress_size, limits)
    if info.file_size > ceiling:
        raise too_big(subject, info.file_size, ceiling, setting)


class XmlGuard:
    """Refuses XML whose single values or records are bigger than any spreadsheet writes.

    A parser holds one value (a cell's text, an attribute) whole in memory, and one record
    (a sheet row, a shared string) with all its child elements. Excel caps a cell at 32,767
    characters and a row at 16,384 cells, so a run of ``longest_run`` bytes without a ``<``,
    or ``most_tags`` tags between two record boundaries, is refused: memory per record stays
    bounded whatever the part's size. Two or three C-speed searches per window of bytes.
    """

    RECORD_ENDS = (b"row>", b"si>")

    def __init__(self, longest_run: int, most_tags: int, refusal: Exception) -> None:
        self.longest_run, self.most_tags, self.refusal = longest_run, most_tags, refusal
        self._run = 0
        self._tags = 0
        self._tail = b""  # the last bytes seen, so a boundary cut in two is still found

    def __call__(self, data: bytes) -> None:
        window_size = self.longest_run
        for start in range(0, len(data), window_size):
            window = data[start:start + window_size]
            self._runs(window)
            self._records(window)

    def _runs(self, window: bytes) -> None:
        """Every gap between two ``<`` lies inside one window (shorter than the limit) or
        crosses a window edge, where the running count sees it."""
        first = window.find(b"<")
        if first == -1:
            self._run += len(window)
        else:
            if self._run + first > self.longest_run:
                raise self.refusal
            self._run = len(window) - 1 - window.rfind(b"<")
        if self._run > self.longest_run:
            raise self.refusal

    def _records(self, window: bytes) -> None:
        carried = len(self._tail)
        text = self._tail + window
        self._tail = text[-3:]
        ends = [(text.find(end), text.rfind(end) + len(end)) for end in self.RECORD_ENDS]
        found = [(first, last) for first, last in ends if first >= 0]
        if not found:
            self._tags += window.count(b"<")
        else:
            first = max(carried, min(f for f, _ in found))
            if self._tags + text.count(b"<", carried, first) > self.most_tags:
                raise self.refusal
            self._tags = text.count(b"<", max(carried, max(last for _, last in found)))
        if self._tags > self.most_tags:
            raise self.refusal


class CappedReader(io.RawIOBase):
    """A read-only stream that refuses (raises ``refusal``) to deliver more than ``cap``
    bytes; ``inspect`` sees every chunk before it is delivered and may refuse it too."""

    def __init__(self, raw: IO[bytes], cap: int, refusal: Exception,
                 inspect: Callable[[bytes], None] | None = None) -> None:
        super().__init__()
        self._raw, self._cap, self._refusal, self._inspect = raw, cap, refusal, inspect
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(min(len(view), self._cap + 1 - self.delivered))
        if self.delivered + len(data) > self._cap:
            raise self._refusal
        if self._inspect is not None:
            self._inspect(data)
        view[:len(data)] = data
        self.delivered += len(data)
        return len(data)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _as_is(refusal: TooLarge) -> Exception:
    return refusal


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, ceiling: int, limits: Limits,
                *, subject: str, setting: str, inspect: Callable[[bytes], None] | None = None,
                refuse: Callable[[TooLarge], Exception] = _as_is) -> BinaryIO:
    """The member as a stream, checked first and counted while read (see the module doc).

    ``refuse`` turns a refusal into the exception the caller's callers expect (a workbook's
    refusal is a :class:`~nccid_desktop.errors.SheetError` wherever openpyxl happens to read).
    """
    try:
        check_member(info, ceiling, limits, subject=subject, setting=setting)
    except TooLarge as declared:
        raise refuse(declared) from None
    if info.compress_type == zipfile.ZIP_STORED:
        cap = min(ceiling, info.file_size)
        refusal = too_big(subject, info.file_size + 1, cap, setting, at_least=True)
    else:
        cap = min(info.file_size, limits.inflate_cap(info.compress_size, ceiling))
        refusal = bomb(subject, cap, info.compress_size, limits, at_least=True)
    raw = zipfile.ZipFile.open(archive, info)  # the plain open, whatever the archive's class
    reader = CappedReader(raw, cap, refuse(refusal), inspect)
    return io.BufferedReader(reader, _CHUNK)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, ceiling: int, limits: Limits,
                *, subject: str, setting: str) -> bytes:
    with open_member(archive, info, ceiling, limits, subject=subject, setting=setting) as stream:
        return stream.read()


def read_file(path: Any, ceiling: int, *, subject: str, setting: str) -> bytes:
    """A file on disk read whole, refused (before reading) when larger than ``ceiling``."""
    with open(path, "rb") as handle:
        data = handle.read(ceiling + 1)
    if len(data) > ceiling:
        raise too_big(subject, len(data), ceiling, setting, at_least=True)
    return data


def check_inflated(stream: IO[bytes], compressed: int, ceiling: int, limits: Limits, *,
                   subject: str, setting: str) -> int:
    """Inflate a raw deflate stream into nothing, counting; its inflated size, or TooLarge.

    For a DICOM file in the deflated transfer syntax, whose readers inflate everything at
    once: run this first and they can only ever inflate what the caps allow.
    """
    cap = limits.inflate_cap(compressed, ceiling)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    pending = b""
    while True:
        if not pending:
            pending = stream.read(_CHUNK)
            if not pending:
                return total + len(inflater.flush())
        total += len(inflater.decompress(pending, _CHUNK))
        pending = inflater.unconsumed_tail
        if total > cap:
            if cap == ceiling:
                raise too_big(subject, total, ceiling, setting, at_least=True)
            raise bomb(subject, cap, compressed, limits, at_least=True)
        if inflater.eof:
            return total
