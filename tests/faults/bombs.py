"""Decompression bombs for tests, made in a second or two without building them in memory.

Why not ``zipfile``: deflating 2 GB of zeros through it takes about 9 s here. A deflate stream
restarted with a full flush compresses equal blocks to equal bytes, so one megabyte of filler
is compressed once and its output repeated; only the CRC has to see every inflated byte
(``zlib.crc32`` does about 2 GB/s). The zip is then written by hand (ZIP64 sizes, so members
may exceed 4 GB), with the declared sizes the caller asks for, true or not.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BLOCK = 1 << 20


@dataclass
class Member:
    """One zip entry: its deflated pieces, and the sizes and CRC it declares."""

    name: str
    pieces: list[tuple[bytes, int]] = field(default_factory=list)  # (bytes, times repeated)
    crc: int = 0
    size: int = 0
    method: int = zipfile.ZIP_DEFLATED

    @property
    def compressed_size(self) -> int:
        return sum(len(piece) * times for piece, times in self.pieces)

    def chunks(self) -> Iterator[bytes]:
        for piece, times in self.pieces:
            for _ in range(times):
                yield piece


def deflated(name: str, prefix: bytes, fill: bytes, fill_size: int, suffix: bytes = b"") -> Member:
    """``prefix + fill * fill_size + suffix`` deflated (``fill`` is one byte), in O(1 MB) memory."""
    assert len(fill) == 1
    block = fill * BLOCK
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    member = Member(name)
    member.pieces.append((compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH), 1))
    crc = zlib.crc32(prefix)
    whole, rest = divmod(fill_size, BLOCK)
    if whole:
        repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
        member.pieces.append((repeated, whole))
        for _ in range(whole):
            crc = zlib.crc32(block, crc)
    tail = fill * rest + suffix
    member.pieces.append((compressor.compress(tail) + compressor.flush(zlib.Z_FINISH), 1))
    member.crc = zlib.crc32(tail, crc)
    member.size = len(prefix) + fill_size + len(suffix)
    return member


def stored(name: str, data: bytes) -> Member:
    return Member(name, [(data, 1)], zlib.crc32(data), len(data), zipfile.ZIP_STORED)


def plain(name: str, data: bytes) -> Member:
    """A small member deflated the ordinary way."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    return Member(name, [(body, 1)], zlib.crc32(data), len(data))


_DOS_TIME, _DOS_DATE = 0, (2020 - 1980) << 9 | 1 << 5 | 1


def write_zip(path: Path, members: list[Member], *, declared_sizes: dict[str, int] | None = None
              ) -> Path:
    """Write ``members`` as a zip (ZIP64 sizes); ``declared_sizes`` may lie about a size."""
    declared_sizes = declared_sizes or {}
    central: list[bytes] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for member in members:
            offset = out.tell()
            name = member.name.encode()
            size = declared_sizes.get(member.name, member.size)
            extra = struct.pack("<HHQQ", 1, 16, size, member.compressed_size)
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, member.method, _DOS_TIME,
                                  _DOS_DATE, member.crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name),
                                  len(extra)) + name + extra)
            for chunk in member.chunks():
                out.write(chunk)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0,
                                       member.method, _DOS_TIME, _DOS_DATE, member.crc,
                                       0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0,
                                       0, offset) + name + extra)
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                              len(directory), start, 0))
    return path


def members_of(source: Path) -> list[Member]:
    """Every member of an existing zip (an .xlsx), as small ordinary members."""
    with zipfile.ZipFile(source) as archive:
        return [plain(info.filename, archive.read(info)) for info in archive.infolist()]


def replaced(members: list[Member], *new: Member) -> list[Member]:
    """``members`` with those of the same names replaced by ``new`` (in place, order kept)."""
    by_name = {m.name: m for m in new}
    return [by_name.get(m.name, m) for m in members]


def original(source: Path, name: str) -> bytes:
    with zipfile.ZipFile(source) as archive:
        return archive.read(name)


def sheet_with_big_cell(source: Path, target: Path, size: int, *, fill: bytes = b"A",
                        sheet: str = "xl/worksheets/sheet1.xml") -> Path:
    """A copy of workbook ``source`` with one more row whose cell holds ``size`` bytes of
    text (an inline string): the issue's 1.5 MB workbook whose cell inflates to 1.5 GB."""
    xml = original(source, sheet)
    head, _, tail = xml.partition(b"</sheetData>")
    row = 1_000
    prefix = head + f'<row r="{row}"><c r="B{row}" t="inlineStr"><is><t>'.encode()
    member = deflated(sheet, prefix, fill, size, b"</t></is></c></row></sheetData>" + tail)
    return write_zip(target, replaced(members_of(source), member))


SHARED_STRINGS_TYPE = ("application/vnd.openxmlformats-officedocument.spreadsheetml."
                       "sharedStrings+xml")
_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def shared_strings_bomb(source: Path, target: Path, size: int, *, fill: bytes = b"B",
                        name: str = "xl/sharedStrings.xml") -> Path:
    """A copy of ``source`` whose shared strings table (added if it has none) ends with one
    string of ``size`` bytes."""
    members = members_of(source)
    names = {m.name for m in members}
    if name in names:
        head = original(source, name).rpartition(b"</sst>")[0]
    else:
        head = _SST
        types = original(source, "[Content_Types].xml").replace(
            b"</Types>", f'<Override PartName="/{name}" ContentType="{SHARED_STRINGS_TYPE}"/>'
                         "</Types>".encode())
        members = replaced(members, plain("[Content_Types].xml", types))
        members.append(Member(name))
    member = deflated(name, head + b"<si><t>", fill, size, b"</t></si></sst>")
    return write_zip(target, replaced(members, member))


def dicom_header(ds: object) -> bytes:
    """A dataset (pydicom ``Dataset`` without its pixel data) as Part 10 bytes."""
    import io

    from pydicom import dcmwrite

    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)  # type: ignore[arg-type]
    return buffer.getvalue()


def pixel_element(length: int) -> bytes:
    """The header of a native Pixel Data element (explicit VR little endian, OW)."""
    return struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, length)


def zero_pixel_image(name: str, ds: object, pixel_bytes: int) -> Member:
    """A DICOM file (``ds`` without pixels) followed by ``pixel_bytes`` of zero pixels,
    deflated as a zip member: the issue's 2 MB zip holding 2 GB of pixels."""
    return deflated(name, dicom_header(ds) + pixel_element(pixel_bytes), b"\0", pixel_bytes)


def deflated_dicom(ds: object, pixel_bytes: int) -> bytes:
    """A DICOM file in the deflated transfer syntax whose data set (``ds`` plus
    ``pixel_bytes`` of zero pixels) inflates to far more than the file's size."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    whole = dicom_header(ds)
    meta_end = 132 + 12 + struct.unpack_from("<I", whole, 140)[0]
    body = whole[meta_end:] + pixel_element(pixel_bytes)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian  # type: ignore[attr-defined]
    meta = DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    meta.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)  # type: ignore[attr-defined]
    member = deflated("", body, b"\0", pixel_bytes)
    return meta.getvalue() + b"".join(member.chunks())


def patch_zip_headers(data: bytes, *, method: int | None = None,
                      needed_version: int | None = None) -> bytes:
    """``data`` (a zip) with every member's packing method and/or the version needed to
    extract it changed, in the local and central headers: what one flipped bit can do, and
    what ``zipfile`` answers with NotImplementedError rather than BadZipFile."""
    patched = bytearray(data)
    for signature, version_at, method_at in ((b"PK\x03\x04", 4, 8), (b"PK\x01\x02", 6, 10)):
        start = patched.find(signature)
        while start != -1:
            if needed_version is not None:
                patched[start + version_at:start + version_at + 2] = struct.pack(
                    "<H", needed_version)
            if method is not None:
                patched[start + method_at:start + method_at + 2] = struct.pack("<H", method)
            start = patched.find(signature, start + 4)
    return bytes(patched)
