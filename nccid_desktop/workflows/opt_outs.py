"""The opt-out list as a selection input: which patients' images must never leave the site.

Why here: both front ends choose images through :mod:`image_selection`; the list is turned
into pseudonyms once, with what this workstation knows. A site whose PACS keys on the NHS/CHI
number can turn every listed number into its pseudonym, so every image is checked. A site
linking on hospital numbers can only match a patient through a sheet row (NHS/CHI number
beside hospital number) checked here; an image of a patient on no such sheet cannot be
checked against the list, so it is held back (fail closed) with a reason saying to add the
sheet, rather than sent on trust.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.dicom.select.rules import SeriesDecision
from nccid_desktop.errors import NccidError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.optouts import OptOutList, load_opt_out_list
from nccid_desktop.pseudonym import LinkingIdentifier, pseudonym_for
from nccid_desktop.sheets.findings import PatientRow
from nccid_desktop.workflows.words import plural


@dataclass(frozen=True)
class OptOutSelection:
    """Pseudonyms of listed patients, and those that could be checked (None: all could)."""

    opted_out: frozenset[str]
    checked: frozenset[str] | None

    @classmethod
    def of(cls, opt_outs: OptOutList, keys: SiteKeys, linking: LinkingIdentifier,
           patients: Iterable[PatientRow] = ()) -> OptOutSelection:
        if linking == "nhs":
            return cls(opt_outs.pseudonyms(keys, "nhs"), None)
        checked: set[str] = set()
        listed: set[str] = set()
        for patient in patients:
            if not patient.hospital_number or not patient.nhs_number:
                continue
            try:
                pseudonym = pseudonym_for(keys, hospital_number=patient.hospital_number)
            except NccidError:
                continue
            checked.add(pseudonym)
            if opt_outs.has(patient.nhs_number):
                listed.add(pseudonym)
        return cls(frozenset(listed), frozenset(checked))

    def merged(self, other: OptOutSelection | None) -> OptOutSelection:
        """What two checked sheets (or sessions) know together."""
        if other is None:
            return self
        checked = (None if self.checked is None or other.checked is None
                   else self.checked | other.checked)
        return OptOutSelection(self.opted_out | other.opted_out, checked)


def as_opt_out_list(value: OptOutList | str | Path | None) -> OptOutList | None:
    """The list itself, or read from the file a setting names (in the caller's worker)."""
    if value is None or isinstance(value, OptOutList):
        return value
    return load_opt_out_list(Path(value)) if str(value).strip() else None


def opted_out_images(decisions: Iterable[SeriesDecision]) -> tuple[int, int]:
    """How many patients were left out as opted out, and how many images that kept back."""
    patients: set[str] = set()
    images = 0
    for decision in decisions:
        if decision.code == "opted_out":
            patients.add(decision.pseudonym or "")
            images += decision.series.instance_count
    return len(patients), images


def opted_out_images_sentence(patients: int, images: int) -> str:
    """What the user reads about images left out by the opt-out list (counts only)."""
    have = "has" if patients == 1 else "have"
    return (f"{plural(patients, 'patient')} {have} opted out: {plural(images, 'image')} of "
            "theirs left out, nothing sent.")
