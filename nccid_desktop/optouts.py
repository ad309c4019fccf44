"""The site's opt-out list: patients whose data must never leave the site.

Why on the workstation: under the National Data Opt-out (and when a patient asks the trust
directly) nothing about the patient may be sent, so the list is applied before anything is
pseudonymised, staged or sent: sheet rows of listed patients are left out, and so are their
images, matched through what the workstation knows (the sheet rows' linking identifier, or
the NHS/CHI number itself when PACS keys on it). The numbers never leave this module's
objects: messages name line numbers and counts only, and ``repr`` hides them.

The file is text or CSV: one number per line, or a column named for the NHS/CHI number (a
header such as ``NHS/CHI Number``, ``NHS number``, ``CHI``). Blank lines and lines starting
with ``#`` are notes; any other line that is not a valid NHS/CHI number is an error naming the
line: the list is refused whole rather than partly applied.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nccid_desktop.errors import ConfigError
from nccid_desktop.identifiers import check_nhs_number

if TYPE_CHECKING:
    from nccid_desktop.keys import SiteKeys
    from nccid_desktop.pseudonym import LinkingIdentifier

MAX_LIST_BYTES = 50 * 1024 * 1024
_NUMBER_HEADER = re.compile(r"\b(nhs|chi)\b", re.IGNORECASE)
MAX_LINES_NAMED = 10


class OptOutListError(ConfigError):
    """The opt-out list cannot be used (unreadable, or lines that are not NHS/CHI numbers)."""


@dataclass(frozen=True)
class OptOutList:
    """The normalised NHS/CHI numbers of the patients who opted out (hidden from ``repr``)."""

    name: str
    numbers: frozenset[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.numbers)

    def has(self, nhs_number: object) -> bool:
        checked = check_nhs_number(nhs_number)
        return checked.value is not None and checked.value in self.numbers

    def indexes(self, keys: SiteKeys) -> frozenset[str]:
        """The NHS/CHI checker indexes of the listed patients (to match envelopes)."""
        from nccid_desktop.pseudonym import nhs_index

        return frozenset(nhs_index(keys, number) for number in self.numbers)

    def pseudonyms(self, keys: SiteKeys, linking: LinkingIdentifier,
                   rows: Iterable[tuple[str | None, str | None]] = ()) -> frozenset[str]:
        """The pseudonyms of listed patients: every one when the site links on the NHS/CHI
        number, else those of the given ``(nhs_number, hospital_number)`` sheet rows."""
        from nccid_desktop.pseudonym import pseudonym_for, pseudonym_from_linking_value

        if linking == "nhs":
            return frozenset(pseudonym_from_linking_value(keys, "nhs", n) for n in self.numbers)
        found = set()
        for nhs, hospital in rows:
            if hospital and self.has(nhs):
                try:
                    found.add(pseudonym_for(keys, hospital_number=hospital))
                except ConfigError:
                    continue
        return frozenset(found)


def merged(lists: list[OptOutList]) -> OptOutList:
    """Several lists as one (a policy's list and one given for this run both apply)."""
    return OptOutList(" and ".join(o.name for o in lists),
                      frozenset().union(*(o.numbers for o in lists)))


def opted_out_sentence(patients: int) -> str:
    """What the user reads: how many, and that nothing about them went."""
    if patients == 1:
        return "1 patient has opted out: nothing about them was pseudonymised or sent."
    return (f"{patients} patients have opted out: nothing about them was pseudonymised or "
            "sent.")


def load_opt_out_list(path: Path) -> OptOutList:
    """Read and check the list; :class:`OptOutListError` names the bad lines (never a value)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_LIST_BYTES:
            raise OptOutListError(f"The opt-out list {path.name} is too large to be a list of "
                                  "numbers.")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise OptOutListError(f"The opt-out list {path.name} was not found.") from None
    except (OSError, UnicodeDecodeError):
        raise OptOutListError(f"The opt-out list {path.name} cannot be read as text.") from None
    numbers: set[str] = set()
    bad: list[int] = []
    rows = list(csv.reader(io.StringIO(text)))
    column = _number_column(rows[0]) if rows else None
    start = 1 if column is not None else 0
    for line, cells in enumerate(rows[start:], start=start + 1):
        value = (cells[column or 0] if len(cells) > (column or 0) else "").strip()
        if (not value and not any(c.strip() for c in cells)) or value.startswith("#"):
            continue
        checked = check_nhs_number(value)
        if checked.value is None or not checked.ok:
            bad.append(line)
        else:
            numbers.add(checked.value)
    if bad:
        shown = ", ".join(str(n) for n in bad[:MAX_LINES_NAMED])
        more = f" and {len(bad) - MAX_LINES_NAMED} more" if len(bad) > MAX_LINES_NAMED else ""
        word = "line" if len(bad) == 1 else "lines"
        raise OptOutListError(f"The opt-out list {path.name} has {len(bad)} {word} that "
                              f"{'is' if len(bad) == 1 else 'are'} not a valid NHS/CHI number "
                              f"({word} {shown}{more}). Fix the list: nothing was sent.")
    return OptOutList(path.name, frozenset(numbers))


def _number_column(header: list[str]) -> int | None:
    """The column whose header names the NHS/CHI number, when the first row is a header."""
    if any(check_nhs_number(cell).ok for cell in header):
        return None
    for index, cell in enumerate(header):
        if _NUMBER_HEADER.search(cell):
            return index
    return None
