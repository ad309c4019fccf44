"""A ``multipart/related`` body read straight from files, with its length known up front.

Why not build the body in memory: a CT study is hundreds of megabytes and a batch may be
bigger; reading parts from disk as the socket drains keeps memory flat. Why a known length:
servers (Orthanc among them) have silently dropped chunked STOW bodies, so the body tells
requests its exact size and is sent with ``Content-Length``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DICOM_MEDIA_TYPE = "application/dicom"


@dataclass(frozen=True)
class FilePart:
    """One file to send; ``size`` is taken when the part is made and re-checked when read."""

    path: Path
    size: int

    @classmethod
    def of(cls, path: Path) -> FilePart:
        return cls(Path(path), os.path.getsize(path))


class MultipartFileBody:
    """A read-once, file-like ``multipart/related`` body over ``parts``.

    Make a new one per attempt (it cannot be rewound); ``len()`` is the exact byte count.
    """

    def __init__(self, parts: Sequence[FilePart], media_type: str = DICOM_MEDIA_TYPE,
                 boundary: str | None = None) -> None:
        self.boundary = boundary or f"nccid-{secrets.token_hex(16)}"
        self.media_type = media_type
        self._parts = list(parts)
        self._heads = [self._head(part) for part in self._parts]
        self._tail = f"--{self.boundary}--\r\n".encode("ascii")
        self._length = sum(len(h) + p.size + 2 for h, p in zip(self._heads, self._parts, strict=True))
        self._length += len(self._tail)
        self._index = 0
        self._stage = "head"
        self._pending = b""
        self._file: BinaryIO | None = None
        self._left_in_file = 0

    @property
    def content_type(self) -> str:
        return f'multipart/related; type="{self.media_type}"; boundary={self.boundary}'

    def __len__(self) -> int:
        return self._length

    def _head(self, part: FilePart) -> bytes:
        return (f"--{self.boundary}\r\nContent-Type: {self.media_type}\r\n"
                f"Content-Length: {part.size}\r\n\r\n").encode("ascii")

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when ``size`` < 0); ``b""`` at the end."""
        if size is None or size < 0:
            size = self._length
        chunks: list[bytes] = []
        wanted = size
        while wanted > 0:
            piece = self._next(wanted)
            if not piece:
                break
            chunks.append(piece)
            wanted -= len(piece)
        return b"".join(chunks)

    def _next(self, limit: int) -> bytes:
        if self._pending:
            piece, self._pending = self._pending[:limit], self._pending[limit:]
            return piece
        if self._stage == "done":
            return b""
        if self._stage == "head":
            if self._index >= len(self._parts):
                self._pending, self._stage = self._tail, "done"
                return self._next(limit)
            self._pending = self._heads[self._index]
            self._open_current()
            self._stage = "file"
            return self._next(limit)
        assert self._file is not None
        if self._left_in_file > 0:
            data = self._file.read(min(limit, self._left_in_file))
            if not data:
                raise OSError("A staged file became shorter while it was being sent.")
            self._left_in_file -= len(data)
            return data
        self._close_current()
        self._index += 1
        self._pending, self._stage = b"\r\n", "head"
        return self._next(limit)

    def _open_current(self) -> None:
        part = self._parts[self._index]
        self._file = open(part.path, "rb")  # noqa: SIM115 (closed by _close_current)
        if os.fstat(self._file.fileno()).st_size != part.size:
            self._close_current()
            raise OSError("A staged file changed size after it was queued.")
        self._left_in_file = part.size

    def _close_current(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        self._close_current()
