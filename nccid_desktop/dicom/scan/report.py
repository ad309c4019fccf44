"""The scan and its selection as a report: JSON for scripts, text for the user's own screen.

Why two shapes with different rules: the text report is read by the PACS user at their desk,
so it names patients and shows the paths of files that could not be read, as their PACS
viewer would. The JSON report is made to be saved, piped and attached to support tickets,
so it carries no identifier unless asked (``show_identifiers``): patients are labelled by
pseudonym (with site keys) or by a per-run index, source UIDs become the UIDs the warehouse
will see (or are left out), and a description that names the patient is withheld.

JSON shape (``"format": "nccid-scan/1"``; keys are stable, new keys may be added)::

    {"format": "nccid-scan/1",
     "summary": {"files", "images", "bytes", "patients", "studies", "series",
                 "included_series", "included_images", "quarantine_risk_images",
                 "held_back_images",
                 "skipped": {"not_dicom", "corrupt", "unreadable", "index", "duplicate",
                             "refused"}},
     "patients": [{"patient": label, "label_kind": "patient_id" | "pseudonym" | "index",
                   "sex", "studies": [{"study_uid", "date", "description",
                   "series": [{"series_uid", "number", "modality", "body_part", "date",
                               "description", "instances", "bytes",
                               "quarantine": "none" | "some" | "all",
                               "risks": [{"code", "message", "instances"}],
                               "included", "code", "reason", "detail", "warnings",
                               "images_to_send", "held_back"}]}]}],
     "held_back": [{"code", "reason", "sop_instance_uid", "path"}],
     "skipped": [{"kind", "reason", "path"}],
     "links": {"patients_without_images": [{"source", "row", "pseudonym", "hospital_number"}],
               "studies_without_patient": [{"patient", "label_kind", "study_uid", "date",
                                            "description"}],
               "hospital_numbers_unlike_images": [same as patients_without_images],
               "images_form"}}

``date`` values are ISO ``YYYY-MM-DD`` or null; ``path`` and ``hospital_number`` are present
only with identifiers. ``links`` is present only when the scan was linked to clinical sheets
or records (:mod:`nccid_desktop.dicom.select.links`). ``held_back`` lists the images never
sent whatever is selected (``code`` from ``HOLD_REASONS``: ``uid_conflict`` when different
images share one SOP Instance UID), with the UID as the warehouse would see it (or null
without keys).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from nccid_desktop.dicom.scan.model import HOLD_REASONS, Patient, ScanResult, Series
from nccid_desktop.dicom.select.links import LinkReport, UnlinkedStudy
from nccid_desktop.dicom.select.rules import Selection, SeriesDecision
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import remap_uid

REPORT_FORMAT = "nccid-scan/1"
SKIP_LABELS = {"not_dicom": "not DICOM", "corrupt": "damaged", "unreadable": "unreadable",
               "index": "DICOMDIR index", "duplicate": "duplicate",
               "refused": "refused (over a size limit)"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _size(size: int) -> str:
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB" if size < 10**9 else f"{size / 10**9:.2f} GB"


class _Labeller:
    """How identifiers appear in the JSON report (see the module docstring)."""

    def __init__(self, keys: SiteKeys | None, show_identifiers: bool) -> None:
        self.keys, self.show = keys, show_identifiers

    def patient(self, index: int, patient: Patient, pseudonym: str | None) -> tuple[str, str]:
        if self.show:
            return patient.patient_id, "patient_id"
        if pseudonym:
            return pseudonym, "pseudonym"
        return f"Patient {index}", "index"

    def uid(self, uid: str) -> str | None:
        if self.show:
            return uid
        return remap_uid(self.keys, uid) if self.keys is not None else None

    def description(self, text: str, patient: Patient) -> str | None:
        if self.show:
            return text
        return None if patient.mentioned_in(text) else text


def _series_json(decision: SeriesDecision, labels: _Labeller) -> dict[str, Any]:
    series: Series = decision.series
    return {
        "series_uid": labels.uid(series.series_uid),
        "number": series.number,
        "modality": series.modality,
        "body_part": series.body_part,
        "date": _iso(series.date),
        "description": labels.description(series.description, decision.patient),
        "instances": series.instance_count,
        "bytes": series.bytes,
        "quarantine": series.quarantine,
        "risks": [{"code": r.code, "message": r.message, "instances": n}
                  for r, n in series.risks],
        "included": decision.included,
        "code": decision.code,
        "reason": decision.reason,
        "detail": decision.detail,
        "warnings": list(decision.warnings),
        "images_to_send": decision.images_to_send,
        "held_back": len(series.held_back_files),
    }


def report_json(result: ScanResult, selection: Selection, *, keys: SiteKeys | None = None,
                show_identifiers: bool = False, links: LinkReport | None = None
                ) -> dict[str, Any]:
    labels = _Labeller(keys, show_identifiers)
    decisions = {id(d.series): d for d in selection.decisions}
    patients = []
    for index, patient in enumerate(result.patients, start=1):
        studies = []
        pseudonym = None
        for study in patient.studies:
            series_json = []
            for series in study.series:
                decision = decisions[id(series)]
                pseudonym = decision.pseudonym
                series_json.append(_series_json(decision, labels))
            studies.append({"study_uid": labels.uid(study.study_uid), "date": _iso(study.date),
                            "description": labels.description(study.description, patient),
                            "series": series_json})
        label, kind = labels.patient(index, patient, pseudonym)
        patients.append({"patient": label, "label_kind": kind, "sex": patient.sex,
                         "studies": studies})
    skipped = []
    for item in result.skipped:
        entry: dict[str, Any] = {"kind": item.kind, "reason": item.reason}
        if show_identifiers:
            entry["path"] = item.source.display_name
        skipped.append(entry)
    held_back = []
    for held in result.held_back:
        hold = held.hold or ""
        entry = {"code": hold, "reason": HOLD_REASONS.get(hold, ""),
                 "sop_instance_uid": labels.uid(held.sop_instance_uid)}
        if show_identifiers:
            entry["path"] = held.source.display_name
        held_back.append(entry)
    included = selection.included
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "summary": {
            "files": result.files_seen, "images": result.instance_count,
            "bytes": result.bytes, "patients": len(result.patients),
            "studies": result.study_count, "series": result.series_count,
            "included_series": len(included),
            "included_images": sum(d.images_to_send for d in included),
            "quarantine_risk_images": result.quarantined_count,
            "held_back_images": len(result.held_back),
            "skipped": result.skipped_counts(),
        },
        "patients": patients,
        "held_back": held_back,
        "skipped": skipped,
        "warnings": [text] if (text := nothing_found(result)) else [],
    }
    if links is not None:
        numbers = {id(p): i for i, p in enumerate(result.patients, start=1)}

        def study_label(item: UnlinkedStudy) -> dict[str, Any]:
            label, kind = labels.patient(numbers[id(item.patient)], item.patient,
                                         item.pseudonym)
            return {"patient": label, "label_kind": kind,
                    "study_uid": labels.uid(item.study.study_uid), "date": _iso(item.study.date),
                    "description": labels.description(item.study.description, item.patient)}

        report["links"] = links.to_json(show_identifiers=show_identifiers,
                                        study_label=study_label)
    return report


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _series_line(decision: SeriesDecision) -> list[str]:
    series = decision.series
    number = "?" if series.number is None else str(series.number)
    line = (f"    Series {number:>4}  {series.modality or '--':<3} {series.body_part or '-':<12} "
            f"{_plural(series.instance_count, 'image'):>11} {_size(series.bytes):>9}  "
            f"{series.description}").rstrip()
    reason = decision.reason + (f" ({decision.detail})" if decision.detail else "")
    return [line, f"      {reason}", *(f"      ! {warning}" for warning in decision.warnings)]


def nothing_found(result: ScanResult) -> str:
    """The warning for a scan that found no DICOM file at all ('' otherwise): an empty or
    wrong folder must not read like a scan that went well and has nothing to send."""
    if result.instance_count or result.held_back:
        return ""
    others = len(result.skipped)
    skipped = (f" ({_plural(others, 'other file')} skipped)" if others
               else " (the folders given hold no files)")
    return f"No DICOM files were found{skipped}: check that this is the PACS export folder."


def report_text(result: ScanResult, selection: Selection,
                links: LinkReport | None = None) -> list[str]:
    """Lines for the user's own screen: names, IDs and paths are shown, as PACS shows them
    (and, with ``links``, the sheet's rows and hospital numbers)."""
    decisions = {id(d.series): d for d in selection.decisions}
    lines = [
        f"Scanned {_plural(result.files_seen, 'file')}: "
        f"{_plural(result.instance_count, 'DICOM image')} in {result.series_count} series of "
        f"{_plural(len(result.patients), 'patient')} ({_size(result.bytes)})."
    ]
    counts = {k: n for k, n in result.skipped_counts().items() if n}
    if counts:
        lines.append("Skipped: " + ", ".join(f"{n} {SKIP_LABELS[k]}" for k, n in counts.items())
                     + ".")
    nothing = nothing_found(result)
    if nothing:
        lines.append(nothing)
    held = Counter(f.hold or "" for f in result.held_back)
    for code, count in held.items():
        lines.append(f"Held back: {_plural(count, 'image')}. {HOLD_REASONS.get(code, '')}")
    for patient in result.patients:
        first = next((decisions[id(s)] for st in patient.studies for s in st.series), None)
        pseudonym = f" -> {first.pseudonym}" if first and first.pseudonym else ""
        lines += ["", f"Patient {patient.display_name or '(no name)'}, "
                      f"ID {patient.patient_id or '(none)'}{pseudonym}"]
        for study in patient.studies:
            when = _iso(study.date) or "no date"
            lines.append(f"  Study {when}  {study.description}".rstrip())
            for series in study.series:
                lines += _series_line(decisions[id(series)])
    if result.held_back:
        lines += ["", "Images held back (never sent):"]
        lines += [f"  {f.source.display_name}: {HOLD_REASONS.get(f.hold or '', '')}"
                  for f in result.held_back]
    if result.skipped:
        lines += ["", "Files not used:"]
        lines += [f"  {s.source.display_name}: {s.reason}" for s in result.skipped]
    if links is not None:
        lines += ["", *links.text_lines()]
    included = selection.included
    images = sum(d.images_to_send for d in included)
    lines += ["", f"Will send {_plural(images, 'image')} in {len(included)} of "
                  f"{len(selection.decisions)} series."]
    return lines
