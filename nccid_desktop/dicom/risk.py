"""Burned-in text risk: which objects may carry patient details in their pixels.

Why one place: the scanner shows "quarantined (burned-in text risk)" per series before
anything is sent, and the de-identifier refuses the same files when it meets them. Both call
:func:`burned_in_text_risk` so the rule exists once. Pixel text cannot be removed by editing
headers, so these objects fail closed: quarantined with a reason, never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
STRUCTURED_REPORT_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
ENCAPSULATED_DOCUMENT_PREFIX = "1.2.840.10008.5.1.4.1.1.104."
RISKY_MODALITIES = frozenset({"SC", "OT", "US", "SR", "DOC", "KO", "PR"})
SCREEN_SAVE_MARKERS = ("SCREEN SAVE", "SCREENSAVE", "SCREEN_SAVE")
DOSE_MARKERS = ("DOSE REPORT", "DOSE_REPORT", "DOSE INFO", "DOSE_INFO", "PATIENT PROTOCOL")


@dataclass(frozen=True)
class Risk:
    """Why an object is quarantined: a stable ``code`` and a message for PACS staff."""

    code: str
    message: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value).upper()
    return str(value).upper()


def burned_in_text_risk(header: Mapping[str, Any]) -> Risk | None:
    """The risk of one object, from its header, or None when it may be de-identified.

    ``header`` maps DICOM keywords to values; a pydicom ``Dataset`` is not a Mapping of
    keywords, so callers pass ``header_view(ds)`` or a plain dict of the keywords used here:
    BurnedInAnnotation, SOPClassUID, Modality, ImageType, ConversionType, SeriesDescription.
    """
    if _text(header.get("BurnedInAnnotation")) == "YES":
        return Risk("burned_in_annotation",
                    "The image is marked as having text burned into its pixels.")
    sop_class = str(header.get("SOPClassUID") or "")
    image_type = _text(header.get("ImageType"))
    description = _text(header.get("SeriesDescription"))
    if any(m in image_type or m in description for m in SCREEN_SAVE_MARKERS):
        return Risk("screen_save", "The image is a screen save, which may show patient details.")
    if any(m in image_type or m in description for m in DOSE_MARKERS):
        return Risk("dose_report", "The image is a dose report, which shows patient details.")
    if sop_class.startswith(SECONDARY_CAPTURE_PREFIX) or header.get("ConversionType"):
        return Risk("secondary_capture",
                    "The image is a secondary capture (a picture of a screen or document).")
    if sop_class.startswith(STRUCTURED_REPORT_PREFIX):
        return Risk("structured_report", "The object is a report, not an image.")
    if sop_class.startswith(ENCAPSULATED_DOCUMENT_PREFIX):
        return Risk("document", "The object is a scanned or PDF document, not an image.")
    modality = _text(header.get("Modality"))
    if modality in RISKY_MODALITIES:
        return Risk("risky_modality",
                    f"{modality} objects often carry burned-in text and are not collected.")
    return None


def header_view(dataset: Any) -> dict[str, Any]:
    """The keywords :func:`burned_in_text_risk` reads, taken from a pydicom Dataset."""
    keywords = ("BurnedInAnnotation", "SOPClassUID", "Modality", "ImageType",
                "ConversionType", "SeriesDescription")
    return {k: dataset.get(k) for k in keywords}
