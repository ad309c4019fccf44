"""Hospital numbers that do not have the form the site's PACS uses, when no pattern is set.

Why learn a form: the hospital number is what links a row to its images, and a number copied
from another hospital system (``12345678`` where PACS writes ``RR12345678``) passes every
other check. A site pattern set by IT catches it; without one, the form is learnt from the
best evidence at hand: the images' PatientIDs (or values the collection service reports)
when the caller has them, otherwise what most of the sheet's own numbers look like. Messages
name the cell and describe shapes only ("8 digits"), never a number.
"""

from __future__ import annotations

from collections.abc import Iterable

from nccid_desktop.identifiers import HospitalNumberForm, describe_shape, infer_hospital_form
from nccid_desktop.sheets.findings import Finding, PatientRow, Severity

#: Learning from the sheet alone needs this many numbers, this share of them alike.
SHEET_MIN_EXAMPLES = 5
SHEET_MIN_SHARE = 0.8
#: Learning from images or the service: most of their IDs must share one form.
EXAMPLES_MIN_SHARE = 0.6
FROM_SHEET = "most hospital numbers on this sheet"
FROM_IMAGES = "the images' patient IDs"


def learn_form(patients: list[PatientRow], examples: Iterable[str] | None
               ) -> tuple[HospitalNumberForm | None, str]:
    """The form to check against, and where it was learnt (words for the message)."""
    if examples is not None:
        return infer_hospital_form(examples, min_share=EXAMPLES_MIN_SHARE), FROM_IMAGES
    numbers = [p.hospital_number for p in patients if p.hospital_number]
    return infer_hospital_form(numbers, min_examples=SHEET_MIN_EXAMPLES,
                               min_share=SHEET_MIN_SHARE), FROM_SHEET


def form_message(value_shape: str, form: HospitalNumberForm, learnt_from: str) -> str:
    return (f"This hospital number ({value_shape}) does not have the form of {learnt_from}: "
            f"{form.describe()}, for example {form.example()}. Use the number exactly as "
            "Radiology (PACS) shows it, or the patient's images will not link.")


def hospital_form_findings(patients: list[PatientRow], letter: str | None, header: str,
                           examples: Iterable[str] | None = None,
                           learnt_from: str | None = None) -> list[Finding]:
    """A warning on the hospital-number cell of each row whose number has another form.

    ``examples`` are PatientIDs (or other hospital numbers) known to be in the PACS form;
    pass them only when PACS keys on hospital numbers at this site.
    """
    form, source = learn_form(patients, examples)
    if form is None or letter is None:
        return []
    words = learnt_from or source
    return [Finding(Severity.WARNING, "hospital_form",
                    form_message(describe_shape(p.hospital_number), form, words), p.row,
                    letter, header)
            for p in patients if p.hospital_number and not form.matches(p.hospital_number)]
