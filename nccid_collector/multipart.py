"""A streaming ``multipart/related`` reader that spools each part to a file.

Why not a library: STOW-RS bodies can be gigabytes; the common form parsers either buffer
whole parts in memory or only handle ``multipart/form-data``. This reader keeps at most one
network chunk plus one delimiter in memory and hands each complete part over as a file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from nccid_collector.problems import ServiceProblem

MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class ContentType:
    media_type: str
    params: dict[str, str]


def parse_content_type(header: str) -> ContentType:
    """Media type and parameters (quoted values unquoted) of a Content-Type header."""
    pieces = _split_params(header)
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, sep, value = piece.partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params[name.strip().lower()] = value
    return ContentType(pieces[0].strip().lower(), params)


def _split_params(header: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


@dataclass(frozen=True)
class SpooledPart:
    headers: dict[str, str]
    path: Path
    size: int


def bad_body(message: str) -> ServiceProblem:
    return ServiceProblem(400, "bad_multipart", message)


async def spool_parts(chunks: AsyncIterator[bytes], boundary: str,
                      new_file: Callable[[], Path]) -> AsyncIterator[SpooledPart]:
    """Yield each part of the body as a file; the caller owns (and deletes) the files."""
    if not boundary or len(boundary) > 70:
        raise bad_body("The upload has no valid multipart boundary.")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    buffer = bytearray(b"\r\n")  # so the first delimiter looks like every other one
    state = "preamble"
    headers: dict[str, str] = {}
    handle = None
    path: Path | None = None
    size = 0
    finished = False
    try:
        async for chunk in _with_end(chunks):
            if chunk is None:
                break
            buffer += chunk
            while True:
                if state == "preamble":
                    at = buffer.find(delimiter)
                    if at < 0:
                        del buffer[:max(0, len(buffer) - len(delimiter))]
                        break
                    del buffer[:at + len(delimiter)]
                    state = "after_delimiter"
                elif state == "after_delimiter":
                    if len(buffer) < 2:
                        break
                    if buffer[:2] == b"--":
                        finished = True
                        return
                    end = buffer.find(b"\r\n")
                    if end < 0:
                        if len(buffer) > 1024:
                            raise bad_body("The upload's multipart structure is damaged.")
                        break
                    del buffer[:end + 2]
                    state = "headers"
                elif state == "headers":
                    end = buffer.find(b"\r\n\r\n")
                    if buffer.startswith(b"\r\n"):
                        end, skip = 0, 2
                    else:
                        skip = 4
                    if end < 0:
                        if len(buffer) > MAX_HEADER_BYTES:
                            raise bad_body("A part of the upload has oversized headers.")
                        break
                    headers = _parse_headers(bytes(buffer[:end]))
                    del buffer[:end + skip]
                    path = new_file()
                    handle = open(path, "wb")  # noqa: SIM115 - closed when the part ends
                    size = 0
                    state = "body"
                else:
                    assert handle is not None and path is not None  # set on entering "body"
                    at = buffer.find(delimiter)
                    if at < 0:
                        keep = len(delimiter) - 1
                        if len(buffer) > keep:
                            handle.write(buffer[:len(buffer) - keep])
                            size += len(buffer) - keep
                            del buffer[:len(buffer) - keep]
                        break
                    handle.write(buffer[:at])
                    size += at
                    del buffer[:at + len(delimiter)]
                    handle.close()
                    handle = None
                    part = SpooledPart(headers, path, size)
                    path = None
                    state = "after_delimiter"
                    yield part
        if not finished:
            raise bad_body("The upload ended before its last part was complete.")
    finally:
        if handle is not None:
            handle.close()
        if path is not None:
            path.unlink(missing_ok=True)


async def _with_end(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes | None]:
    async for chunk in chunks:
        if chunk:
            yield chunk
    yield None


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers
