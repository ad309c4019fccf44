"""The link between the clinical sheets and the images: who has no images, what has no patient.

Why a report of its own: the guidance calls the link between the sheet and the images
"extremely important", and a broken link is silent: a mistyped hospital number leaves a
patient without images and a study without a patient, and both look fine on their own. After
a scan with a sheet (or with what the service holds), this lists the sheet's patients with no
images in the export, the studies that belong to no patient on the sheet, and the sheet's
hospital numbers whose form differs from the images' PatientIDs. It is a value with a text
rendering for the user's own screen (row numbers and hospital numbers, as the sheet shows
them) and a JSON form that carries hospital numbers only when asked. Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nccid_desktop.dicom.scan.model import Patient, Study
from nccid_desktop.dicom.select.rules import Selection
from nccid_desktop.errors import IdentifierError
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import LinkingIdentifier, pseudonym_for
from nccid_desktop.sheets.definitions import TEMPLATES
from nccid_desktop.sheets.findings import ValidationReport
from nccid_desktop.uk_dates import uk_prose


@dataclass(frozen=True)
class ListedPatient:
    """A patient the clinical side lists: a sheet row, or a record from a file or the service.

    ``source`` is how the user knows the list ("Main sheet", "records"); ``row`` and
    ``hospital_number`` are there for sheet rows, for the user's own screen only.
    """

    pseudonym: str = field(repr=False)
    source: str
    row: int | None = None
    hospital_number: str | None = field(default=None, repr=False)

    def where(self) -> str:
        return f"{self.source} row {self.row}" if self.row is not None else self.source


@dataclass(frozen=True)
class UnlinkedStudy:
    patient: Patient = field(repr=False)
    study: Study = field(repr=False)
    pseudonym: str | None = field(repr=False)


@dataclass(frozen=True)
class LinkReport:
    without_images: tuple[ListedPatient, ...]
    without_patient: tuple[UnlinkedStudy, ...]
    #: Sheet rows whose hospital number has another form than the images' PatientIDs.
    unlike_images: tuple[ListedPatient, ...] = ()
    images_form: str = ""  # that form in words, e.g. "RR followed by 8 digits"

    def text_lines(self) -> list[str]:
        """For the user's own screen: names rows and hospital numbers as the sheet does."""
        lines = [_count(len(self.without_images), "patient on the sheet has",
                        "patients on the sheet have") + " no images in this export"
                 + (":" if self.without_images else ".")]
        lines += [f"  {p.where()}: {p.hospital_number or '(hospital number not usable)'}"
                  for p in self.without_images]
        lines.append(_count(len(self.without_patient), "study belongs", "studies belong")
                     + " to no patient on the sheet" + (":" if self.without_patient else "."))
        for item in self.without_patient:
            when = uk_prose(item.study.date) if item.study.date else "no date"
            lines.append(f"  Patient {item.patient.display_name or '(no name)'}, ID "
                         f"{item.patient.patient_id or '(none)'}: study {when} "
                         f"{item.study.description}".rstrip())
        if self.unlike_images:
            lines.append(_count(len(self.unlike_images), "hospital number on the sheet does",
                             "hospital numbers on the sheet do")
                         + f" not look like the images' patient IDs ({self.images_form}):")
            lines += [f"  {p.where()}: {p.hospital_number}" for p in self.unlike_images]
        return lines

    def to_json(self, *, show_identifiers: bool = False,
                study_label: Callable[[UnlinkedStudy], dict[str, Any]] | None = None
                ) -> dict[str, Any]:
        """``patients_without_images`` and ``studies_without_patient`` (hospital numbers only
        with ``show_identifiers``; studies described by ``study_label``)."""
        def listed(patient: ListedPatient) -> dict[str, Any]:
            entry: dict[str, Any] = {"source": patient.source, "row": patient.row,
                                     "pseudonym": patient.pseudonym}
            if show_identifiers:
                entry["hospital_number"] = patient.hospital_number
            return entry

        return {
            "patients_without_images": [listed(p) for p in self.without_images],
            "studies_without_patient": [study_label(s) if study_label else {}
                                        for s in self.without_patient],
            "hospital_numbers_unlike_images": [listed(p) for p in self.unlike_images],
            "images_form": self.images_form or None,
        }


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def listed_from_report(report: ValidationReport, keys: SiteKeys,
                       linking: LinkingIdentifier = "hospital") -> list[ListedPatient]:
    """Every row of a checked sheet with a usable linking identifier, errors or not."""
    source = f"{TEMPLATES[report.template].sheet_name} sheet" if report.template else "sheet"
    found = []
    for patient in report.patients:
        try:
            pseudonym = pseudonym_for(keys, hospital_number=patient.hospital_number,
                                      nhs_number=patient.nhs_number, linking=linking)
        except IdentifierError:
            continue
        found.append(ListedPatient(pseudonym, source, patient.row, patient.hospital_number))
    return found


def link_report(selection: Selection, listed: Sequence[ListedPatient],
                unlike_images: Sequence[ListedPatient] = (), images_form: str = "") -> LinkReport:
    """Both sides of the link, by pseudonym: the scan's patients are those of ``selection``."""
    imaged: set[str] = set()
    studies: dict[int, UnlinkedStudy] = {}
    known = {p.pseudonym for p in listed}
    for decision in selection.decisions:
        if decision.pseudonym is not None:
            imaged.add(decision.pseudonym)
        if decision.pseudonym not in known:
            studies.setdefault(id(decision.study), UnlinkedStudy(
                decision.patient, decision.study, decision.pseudonym))
    seen: set[str] = set()
    without = []
    for patient in listed:
        if patient.pseudonym not in imaged and patient.pseudonym not in seen:
            seen.add(patient.pseudonym)
            without.append(patient)
    return LinkReport(tuple(without), tuple(studies.values()), tuple(unlike_images),
                      images_form)
