"""A streaming ``multipart/related`` reader that spools each part to a file.

Why not a library: STOW-RS bodies can be gigabytes; the common form parsers either buffer
whole parts in memory or only handle ``multipart/form-data``. This reader keeps at most one
network chunk plus one delimiter in memory and hands each complete part over as a file.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from nccid_collector.problems import ServiceProblem

MAX_HEADER_BYTES = 16 * 1024
#: RFC 7230 token characters (media types, parameter names, unquoted values).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class ContentType:
    media_type: str
    params: dict[str, str]


def ambiguous(message: str) -> ServiceProblem:
    return ServiceProblem(400, "ambiguous_content_type", message)


def single_header(values: list[str]) -> str:
    """The one value of a header that must be given once (two Content-Types: which wins?)."""
    if len(values) > 1:
        raise ambiguous("The request has more than one Content-Type header.")
    return values[0] if values else ""


def parse_content_type(header: str) -> ContentType:
    """Media type and parameters (quoted values unquoted) of a Content-Type header.

    Anything two readers could read two ways is refused (``ambiguous_content_type``): a
    parameter given twice (``boundary=A; boundary=B``: the first or the last?), a parameter
    without a value or a name, an unclosed quote, a media type that is not ``type/subtype``.
    """
    pieces = _split_params(header)
    media_type = pieces[0].strip().lower()
    if media_type and (media_type.count("/") != 1 or not _TOKEN.fullmatch(
            media_type.replace("/", ""))):
        raise ambiguous("The Content-Type is not a single media type.")
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        if not piece.strip():
            continue  # a trailing ";" is harmless
        name, sep, value = piece.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if not sep or not _TOKEN.fullmatch(name):
            raise ambiguous("A Content-Type parameter has no name or no value.")
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"') or '"' in value[1:-1]:
                raise ambiguous("A Content-Type parameter has an unclosed quote.")
            value = value[1:-1]
        elif not _TOKEN.fullmatch(value):
            raise ambiguous("A Content-Type parameter value must be quoted.")
        if name in params:
            raise ambiguous(f"The Content-Type parameter '{name}' is given more than once.")
        params[name] = value
    return ContentType(media_type, params)


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
    if quoted:
        raise ambiguous("A Content-Type parameter has an unclosed quote.")
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
                    end = buffer.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES + 4)
                    if buffer.startswith(b"\r\n"):
                        end, skip = 0, 2
                    else:
                        skip = 4
                    if end < 0:  # the limit holds however the bytes arrive: in one read too
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
    """A part's headers; a header given twice is ambiguous (which one describes the part?)."""
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            name = name.strip().lower()
            if name in headers:
                raise bad_body(f"A part of the upload gives its '{name}' header twice.")
            headers[name] = value.strip()
    return headers
