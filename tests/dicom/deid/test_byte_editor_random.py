"""Random headers: the raw-bytes de-identifier gives the pydicom path's bytes or steps aside.

Hand-picked fixtures cover what we thought of; these cover what we did not. Each case is a CT
slice with a random selection of Table E.1-1 attributes and other elements, each with a
random value for its VR (padding, backslashes, empty values, several values, dates that are
not dates, standard and local UIDs, Latin-1 or UTF-8 text under a matching character set),
random sequences up to three levels deep with defined or undefined lengths, private tags and
overlays, in explicit or implicit VR. Seeded, so a failure is reproducible by its number.
"""

from __future__ import annotations

import io
import random
import warnings

import pytest
from pydicom import config
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from nccid_desktop.dicom.deid._annex_e import ROWS
from tests.dicom import builders
from tests.dicom.deid.test_byte_editor import DECLINED, _compare

CASES = 240
#: Table rows with an exact tag and a VR pydicom knows, and a few kept attributes.
TABLE = [(int(t, 16), vr) for t, _k, _n, vr, _b, _o in ROWS
         if len(t) == 8 and "x" not in t and vr and " or " not in vr and int(t, 16) >> 16 >= 8]
KEPT = [(0x00180015, "CS"), (0x00280030, "DS"), (0x00200013, "IS"), (0x00181150, "IS"),
        (0x00080008, "CS"), (0x00101010, "AS"), (0x00080060, "CS"), (0x00181030, "LO"),
        (0x00081030, "LO"), (0x0008103E, "LO"), (0x00280010, "US"), (0x00189306, "FD")]
CONTAINERS = [0x00082218, 0x00082220, 0x00082228, 0x00082230, 0x00400555]  # kept sequences
ALPHABETS = {None: "ABCXYZ abc019^=,.-_", "ISO_IR 100": "ABCxyz 09^ÄÖÜßéñ",
             "ISO_IR 192": "ABCxyz 09^ŁŻÓ中文é"}
WORDS = ["SMITH", "JONES^ANN", "CHEST", "RSH", "Dr Who", "ROYAL SURREY", "99TEST", "SN1"]


def _text(rng: random.Random, charset: str | None, ascii_only: bool = False) -> str:
    alphabet = ALPHABETS[None if ascii_only else charset]
    word = rng.choice(WORDS) if rng.random() < 0.4 else ""
    tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    text = (word + " " + tail).strip() if word else tail
    if rng.random() < 0.15:
        text += " " * rng.randint(1, 3)
    return text


def _uid(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "1.2.840.10008.5.1.4.1.1." + str(rng.randint(1, 9))
    return builders.uid(rng.randint(1, 99), rng.randint(1, 999))


def _value(rng: random.Random, vr: str, charset: str | None) -> object:
    if rng.random() < 0.1:
        return None  # empty
    many = rng.random() < 0.15
    one = {
        "DA": lambda: rng.choice(["20200102", "19500612", "2020", "20201301", "not a date"]),
        "DT": lambda: rng.choice(["20200102101010", "20200102101010.5+0100", "2020", "x"]),
        "TM": lambda: rng.choice(["101010", "101010.123", "10", ""]),
        "UI": lambda: _uid(rng),
        "AS": lambda: rng.choice(["045Y", "003M", "", "45"]),
        "IS": lambda: str(rng.randint(-5, 500)),
        "DS": lambda: rng.choice(["1.5", "-0.25", "100", "3e2"]),
        "AE": lambda: _text(rng, charset, ascii_only=True)[:16],
        "CS": lambda: _text(rng, charset, ascii_only=True).upper()[:16],
        "UR": lambda: "http://example.org/" + str(rng.randint(1, 9)),
    }.get(vr)
    if one is None and vr in ("LO", "SH", "PN", "LT", "ST", "UT", "UC"):
        def one() -> str:
            return _text(rng, charset)[:16 if vr == "SH" else 64]
    if one is not None:
        if vr in ("LT", "ST", "UT", "UR"):
            return one()
        values = [one() for _ in range(rng.randint(2, 3))] if many else one()
        return values
    if vr in ("US", "UL", "SS", "SL"):
        return rng.randint(0, 1000)
    if vr in ("FL", "FD"):
        return rng.random() * 100
    if vr in ("OB", "OW", "UN"):
        return bytes(rng.randrange(256) for _ in range(2 * rng.randint(0, 8)))
    if vr == "AT":
        return 0x00100010
    return None


def _item(rng: random.Random, charset: str | None, depth: int) -> Dataset:
    item = Dataset()
    for tag, vr in rng.sample(TABLE + KEPT, k=rng.randint(0, 6)):
        _put(rng, item, tag, vr, charset, depth + 1)
    if rng.random() < 0.2:
        item.add(DataElement(0x00291010, "LO", "PRIVATE " + _text(rng, charset)))
    if rng.random() < 0.3:
        item.is_undefined_length_sequence_item = True
    return item


def _put(rng: random.Random, ds: Dataset, tag: int, vr: str, charset: str | None,
         depth: int) -> None:
    if vr == "SQ":
        if depth >= 3:
            return
        sequence = DataElement(tag, "SQ", Sequence(
            [_item(rng, charset, depth) for _ in range(rng.randint(0, 2))]))
        sequence.is_undefined_length = rng.random() < 0.4
        ds.add(sequence)
        return
    value = _value(rng, vr, charset)
    if vr == "PN" and isinstance(value, str) and charset is None:
        value = value.replace("=", "^")
    ds.add(DataElement(tag, vr, value, validation_mode=config.IGNORE))


def random_case(number: int) -> bytes:
    """Case ``number``: the same bytes on every run (pydicom's value warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _random_case(number)


def _random_case(number: int) -> bytes:
    rng = random.Random(number)
    ds = builders.ct_slice(rows=8, columns=8, instance=number % 7 + 1)
    charset = rng.choice([None, "ISO_IR 100", "ISO_IR 192"])
    if charset is None:
        del ds.SpecificCharacterSet
    else:
        ds.SpecificCharacterSet = charset
    ds.PatientName = _text(rng, charset) or "DOE^JOHN"
    for tag, vr in rng.sample(TABLE, k=rng.randint(5, 40)) + rng.sample(KEPT, k=4):
        if tag in (0x00080018, 0x00100020, 0x00080016, 0x00080005):
            continue  # the identity of the object stays valid: quarantines are tested apart
        _put(rng, ds, tag, vr, charset, 0)
    for container in rng.sample(CONTAINERS, k=rng.randint(0, 2)):
        _put(rng, ds, container, dictionary_VR(container), charset, 0)
    if rng.random() < 0.3:
        builders.add_private_tags(ds, text=_text(rng, charset, ascii_only=True))
    if rng.random() < 0.2:
        builders.add_overlay(ds)
    if rng.random() < 0.3:
        builders.implicit_little_endian(ds)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("block", range(CASES // 40))
def test_random_headers_give_the_pydicom_paths_bytes_or_are_declined(block: int) -> None:
    results = [_compare(random_case(n)) for n in range(block * 40, (block + 1) * 40)]
    taken = sum(r != DECLINED for r in results)
    assert taken >= len(results) // 2, f"the raw path took only {taken} of {len(results)}"
