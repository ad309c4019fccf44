"""A seeded mutator over valid DICOM files and workbooks: malformed inputs by the thousand.

Why seeded mutations of valid files rather than random bytes: random bytes are rejected by
the first check ("not DICOM", "not a workbook"); a valid file with one length, one tag, one
attribute or one zip header broken reaches the deep code paths, where crashes hide. Every
case is a pure function of its number, so a failure found by the long campaign
(``tools/fault_campaign.py``) is replayed exactly by its case number.

The mutations aim at what real files and hostile ones get wrong: flipped bits, cut files,
inserted and repeated bytes, element lengths set to 0, odd, huge or undefined, transfer
syntaxes swapped, image sizes set to extremes, and in workbooks broken XML, cell references
out of range, shared-string indexes that point nowhere, dimension claims, and zip entries
removed, renamed, or lying about their sizes.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SYNTAXES = (b"1.2.840.10008.1.2", b"1.2.840.10008.1.2.1", b"1.2.840.10008.1.2.2",
            b"1.2.840.10008.1.2.1.99", b"1.2.840.10008.1.2.4.50", b"1.2.840.10008.1.2.5",
            b"1.2.840.10008.1.2.4.90", b"9.9.9", b"")
LENGTHS = (0, 1, 2, 3, 0xFF, 0xFFFE, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF)
#: Image-size tags (group 0028) whose values are set to extremes: rows, columns, frames,
#: samples, bits allocated.
SIZE_TAGS = (b"\x28\x00\x10\x00", b"\x28\x00\x11\x00", b"\x28\x00\x08\x00",
             b"\x28\x00\x02\x00", b"\x28\x00\x00\x01")
CELL_REFS = ("A0", "XFD1048576", "ZZZZ1", "A1048577", "", "1A", "B-3", "AAA999999")


@dataclass(frozen=True)
class Case:
    number: int
    kind: str  # "dicom", "zip" (a DICOM file in a zip) or "xlsx"
    seed_name: str
    mutations: tuple[str, ...]
    data: bytes


# --- byte-level mutations --------------------------------------------------------------------

def _flip(rng: random.Random, data: bytearray) -> None:
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(data))
        data[position] ^= 1 << rng.randrange(8)


def _overwrite(rng: random.Random, data: bytearray) -> None:
    start = rng.randrange(len(data))
    data[start:start + rng.randint(1, 64)] = rng.randbytes(rng.randint(1, 64))


def _truncate(rng: random.Random, data: bytearray) -> None:
    del data[rng.randrange(len(data)):]


def _insert(rng: random.Random, data: bytearray) -> None:
    position = rng.randrange(len(data) + 1)
    data[position:position] = rng.choice([rng.randbytes(rng.randint(1, 32)), b"\x00" * 4,
                                          b"\xff" * 8, b"\xfe\xff\x00\xe0"])


def _delete(rng: random.Random, data: bytearray) -> None:
    start = rng.randrange(len(data))
    del data[start:start + rng.randint(1, 128)]


def _repeat(rng: random.Random, data: bytearray) -> None:
    start = rng.randrange(len(data))
    piece = data[start:start + rng.randint(1, 256)]
    position = rng.randrange(len(data) + 1)
    data[position:position] = piece * rng.randint(1, 4)


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytearray], None]] = {
    "flip": _flip, "overwrite": _overwrite, "truncate": _truncate, "insert": _insert,
    "delete": _delete, "repeat": _repeat,
}


# --- DICOM-aware mutations -------------------------------------------------------------------

def _element_starts(data: bytes) -> list[int]:
    """Offsets that look like explicit VR element headers (tag then two capital letters)."""
    return [m.start() for m in re.finditer(rb"(?s)..\x00?.?[A-Z][A-Z]", data[132:4096])][:200]


def _length(rng: random.Random, data: bytearray) -> None:
    starts = _element_starts(bytes(data))
    if not starts:
        return _overwrite(rng, data)
    position = 132 + rng.choice(starts)
    value = rng.choice(LENGTHS)
    if data[position + 4:position + 6] in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"OF"):
        data[position + 8:position + 12] = struct.pack("<I", value)
    else:
        data[position + 6:position + 8] = struct.pack("<H", value & 0xFFFF)
    return None


def _syntax(rng: random.Random, data: bytearray) -> None:
    found = bytes(data).find(b"1.2.840.10008.1.2", 132, 1024)
    if found == -1:
        return _flip(rng, data)
    end = found
    while end < len(data) and data[end:end + 1] in b"0123456789.":
        end += 1
    new = rng.choice(SYNTAXES)
    data[found:end] = new.ljust(end - found, b"\x00")[:end - found] if rng.random() < 0.5 \
        else new
    return None


def _image_size(rng: random.Random, data: bytearray) -> None:
    tag = rng.choice(SIZE_TAGS)
    found = bytes(data).find(tag, 132)
    if found == -1:
        return _flip(rng, data)
    vr = bytes(data[found + 4:found + 6])
    if vr == b"US":
        data[found + 8:found + 10] = struct.pack("<H", rng.choice([0, 1, 3, 0x7FFF, 0xFFFF]))
    elif vr == b"IS":
        length = struct.unpack("<H", data[found + 6:found + 8])[0]
        value = rng.choice([b"0", b"-1", b"999999999", b"x", b"1e9"])
        data[found + 8:found + 8 + length] = value.ljust(length)[:max(length, 1)]
    return None


DICOM_MUTATIONS: dict[str, Callable[[random.Random, bytearray], None]] = {
    **BYTE_MUTATIONS, "length": _length, "syntax": _syntax, "image_size": _image_size,
}


# --- workbook mutations ----------------------------------------------------------------------

def _xml_tweak(rng: random.Random, xml: bytearray) -> str:
    text = bytes(xml)
    choice = rng.choice((0, 0, 1, 1, 2, 3, 3, 4, 5, 6))
    if choice == 0:  # a cell reference out of range or malformed
        refs = [m.span(1) for m in re.finditer(rb' r="([A-Z]+[0-9]+)"', text)]
        if refs:
            start, end = rng.choice(refs)
            xml[start:end] = rng.choice(CELL_REFS).encode()
            return "cell_ref"
    if choice == 1:  # a shared-string index that points nowhere, or is not a number
        values = [m.span(1) for m in re.finditer(rb"<v>([^<]*)</v>", text)]
        if values:
            start, end = rng.choice(values)
            xml[start:end] = rng.choice([b"999999", b"-1", b"x", b"1e400", b"", b"NaN"])
            return "value"
    if choice == 2:  # a dimension claim
        found = re.search(rb'<dimension ref="([^"]*)"', text)
        if found:
            xml[found.start(1):found.end(1)] = rng.choice([b"A1:XFD1048576", b"A1:A1",
                                                           b"ZZ:ZZ", b""])
            return "dimension"
    if choice == 3:  # a cell type that does not match its value
        types = [m.span(1) for m in re.finditer(rb' t="([a-zA-Z]+)"', text)]
        if types:
            start, end = rng.choice(types)
            xml[start:end] = rng.choice([b"s", b"n", b"b", b"e", b"d", b"str", b"inlineStr",
                                         b"zz"])
            return "cell_type"
    if choice == 4:  # a closing tag removed
        closes = [m.span() for m in re.finditer(rb"</[a-zA-Z:]+>", text)]
        if closes:
            start, end = rng.choice(closes)
            del xml[start:end]
            return "unclosed"
    if choice == 5:  # an entity or character XML forbids
        position = rng.randrange(len(xml) + 1)
        xml[position:position] = rng.choice([b"&bogus;", b"\x00", b"<", b"&#0;", b"]]>",
                                             b"<!DOCTYPE x>"])
        return "bad_char"
    name = rng.choice(list(BYTE_MUTATIONS))
    BYTE_MUTATIONS[name](rng, xml)
    return name


def _rezip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def mutate_workbook(rng: random.Random, workbook: bytes) -> tuple[bytes, tuple[str, ...]]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    done: list[str] = []
    container = rng.random() < 0.1
    for _ in range(rng.randint(1, 3)):
        sheets = [i for i, (n, _) in enumerate(members)
                  if "worksheets/" in n or "sharedStrings" in n]
        index = rng.choice(sheets) if sheets and rng.random() < 0.7 else \
            rng.randrange(len(members))
        name, data = members[index]
        roll = rng.random()
        if roll < 0.06:
            del members[index]
            done.append(f"remove:{name}")
        elif roll < 0.1:
            members[index] = (name + rng.choice(["x", "/", ".bak"]), data)
            done.append(f"rename:{name}")
        else:
            xml = bytearray(data)
            if xml:
                done.append(f"{_xml_tweak(rng, xml)}:{name}")
                members[index] = (name, bytes(xml))
        if not members:
            break
    result = bytearray(_rezip(members))
    if container and result:
        name = rng.choice(list(BYTE_MUTATIONS))
        BYTE_MUTATIONS[name](rng, result)
        done.append(f"zip_{name}")
    return bytes(result), tuple(done)


# --- seeds and cases -------------------------------------------------------------------------

@cache
def dicom_seeds() -> dict[str, bytes]:
    """Valid DICOM files of many shapes: built in code and bundled with pydicom."""
    from pydicom.data import get_testdata_file

    from tests.dicom import builders
    from tests.faults.bombs import dicom_header

    built = {
        "ct_nested_private": builders.add_private_tags(builders.add_nested_sequences(
            builders.add_overlay(builders.ct_slice(instance=1)))),
        "cr_rle": builders.compress_rle(builders.cr_image()),
        "dx": builders.dx_image(),
        "mr_implicit": builders.implicit_little_endian(builders.mr_image()),
        "secondary_capture": builders.secondary_capture(),
        "fake_jpeg": builders.fake_jpeg_baseline(builders.ct_slice(instance=2)),
    }
    seeds = {name: dicom_header(ds) for name, ds in built.items()}
    for name in ("CT_small.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm", "rtplan.dcm",
                 "JPEG2000.dcm", "nested_priv_SQ.dcm", "no_meta.dcm", "UN_sequence.dcm",
                 "SC_rgb_rle_2frame.dcm", "emri_small.dcm"):
        path = get_testdata_file(name, download=False)
        if path is not None:
            seeds[name] = Path(str(path)).read_bytes()
    return seeds


@cache
def workbook_seeds() -> dict[str, bytes]:
    """Filled-in Main and Status workbooks, in our template and as a plain sheet."""
    import tempfile

    from nccid_desktop.sheets.definitions import MAIN, STATUS
    from tests.sheets.builders import main_row, plain_workbook, save_workbook, status_row

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = {
            "main": save_workbook(root / "main.xlsx", MAIN, [main_row(i) for i in range(1, 6)]),
            "status": save_workbook(root / "status.xlsx", STATUS,
                                    [status_row(i) for i in range(1, 6)]),
            "plain": plain_workbook(root / "plain.xlsx", [["NHS/CHI Number", "Age"],
                                                           ["9434765919", 40]]),
        }
        return {name: path.read_bytes() for name, path in paths.items()}


def _mutate_dicom(rng: random.Random, data: bytes) -> tuple[bytes, tuple[str, ...]]:
    mutated = bytearray(data)
    done = []
    names = [*DICOM_MUTATIONS, "length", "length", "image_size", "image_size", "syntax"]
    for _ in range(rng.randint(1, 3)):
        if not mutated:
            break
        name = rng.choice(names)
        DICOM_MUTATIONS[name](rng, mutated)
        done.append(name)
    return bytes(mutated), tuple(done)


#: Every this-many cases, one is a hostile input rather than a mutation (in turn, one of
#: :data:`HOSTILE`): what a mutation is unlikely to produce by chance, and what once took
#: the workstation down.
HOSTILE_EVERY = 20
HOSTILE_BYTES = 300_000_000


def _xlsx_bomb(rng: random.Random) -> tuple[bytes, str]:
    """A workbook whose one cell inflates to 300 MB (a thousand times its packed size)."""
    from tests.faults import bombs

    name = rng.choice(sorted(workbook_seeds()))
    with _temporary() as folder:
        source = folder / "seed.xlsx"
        source.write_bytes(workbook_seeds()[name])
        target = bombs.sheet_with_big_cell(source, folder / "bomb.xlsx", HOSTILE_BYTES)
        return target.read_bytes(), name


def _xlsx_far_row(rng: random.Random) -> tuple[bytes, str]:
    """A workbook with one cell at XFD1048576: a million rows of 16,384 cells to pad."""
    from tests.faults import bombs

    name = rng.choice(sorted(workbook_seeds()))
    with _temporary() as folder:
        source = folder / "seed.xlsx"
        source.write_bytes(workbook_seeds()[name])
        sheet = "xl/worksheets/sheet1.xml"
        head, _, tail = bombs.original(source, sheet).partition(b"</sheetData>")
        head = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', head)
        far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        target = bombs.write_zip(folder / "far.xlsx", bombs.replaced(
            bombs.members_of(source), bombs.plain(sheet, head + far + tail)))
        return target.read_bytes(), name


def _image_header(rng: random.Random, rows: int, columns: int):  # type: ignore[no-untyped-def]
    from tests.dicom import builders

    ds = builders.ct_slice(instance=rng.randint(1, 999))
    del ds.PixelData
    ds.Rows, ds.Columns = rows, columns
    return ds


def _zip_bomb(rng: random.Random) -> tuple[bytes, str]:
    """A zip holding an image with 300 MB of zero pixels (its header agrees) and a normal one."""
    from tests.faults import bombs

    with _temporary() as folder:
        target = bombs.write_zip(folder / "bomb.zip", [
            bombs.zero_pixel_image("IM0001", _image_header(rng, 10000, 15000), HOSTILE_BYTES),
            bombs.plain("IM0002", dicom_seeds()["ct_nested_private"])])
        return target.read_bytes(), "ct_nested_private"


def _deflated_bomb(rng: random.Random) -> tuple[bytes, str]:
    from tests.faults import bombs

    return bombs.deflated_dicom(_image_header(rng, 10000, 15000), HOSTILE_BYTES), "ct"


def _uid_clash(rng: random.Random) -> tuple[bytes, str]:
    """A zip with two patients' images that share one SOP Instance UID, and a copy of one."""
    from tests.dicom import builders
    from tests.faults.bombs import dicom_header

    first = builders.ct_slice(instance=rng.randint(1, 99))
    second = builders.ct_slice(instance=rng.randint(100, 199), patient=builders.Patient(
        hospital_number=f"RR{rng.randrange(10**8):08d}", name="OTHERSON^PAT"))
    second.SOPInstanceUID = first.SOPInstanceUID
    second.file_meta.MediaStorageSOPInstanceUID = first.SOPInstanceUID
    data = dicom_header(first)
    return _rezip([("A/IM1", data), ("B/IM1", dicom_header(second)), ("C/IM1", data)]), "ct"


HOSTILE: tuple[tuple[str, str, Callable[[random.Random], tuple[bytes, str]]], ...] = (
    ("xlsx", "cell_bomb", _xlsx_bomb), ("zip", "zip_bomb", _zip_bomb),
    ("xlsx", "far_row", _xlsx_far_row), ("zip", "uid_clash", _uid_clash),
    ("dicom", "deflated_bomb", _deflated_bomb),
)


def _temporary():  # type: ignore[no-untyped-def]
    import tempfile
    from contextlib import contextmanager

    @contextmanager
    def folder():  # type: ignore[no-untyped-def]
        with tempfile.TemporaryDirectory() as name:
            yield Path(name)
    return folder()


def case(number: int) -> Case:
    """Case ``number`` of the campaign: the same bytes every time."""
    rng = random.Random(f"nccid-faults-{number}")
    if number % HOSTILE_EVERY == HOSTILE_EVERY - 1:
        kind, label, make = HOSTILE[(number // HOSTILE_EVERY) % len(HOSTILE)]
        data, name = make(rng)
        return Case(number, kind, name, (label,), data)
    if number % 2:
        name = rng.choice(sorted(workbook_seeds()))
        data, done = mutate_workbook(rng, workbook_seeds()[name])
        return Case(number, "xlsx", name, done, data)
    name = rng.choice(sorted(dicom_seeds()))
    data, done = _mutate_dicom(rng, dicom_seeds()[name])
    if rng.random() < 0.2:
        member = _rezip([("IM0001", data)])
        return Case(number, "zip", name, (*done, "in_zip"), member)
    return Case(number, "dicom", name, done, data)
