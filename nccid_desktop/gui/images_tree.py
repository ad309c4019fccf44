"""The Patient -> Study -> Series tree of Send Images, with a status that is always visible.

Why the status is text in its own column (with an icon, never colour alone): PACS staff must
see why each series will or will not be sent, and the reason comes word for word from the
selection rules (:mod:`nccid_desktop.dicom.select.rules`), never from a second copy of them here.
A series the rules left out for a reason the user may override (not linked, outside the date
window, body part) can be ticked in; a quarantined or held-back series never can.
A queue resumed from an earlier run has no source files to show, so its tree is built from the
journal instead (:func:`build_queue_model`): pseudonym, de-identified study, series.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from nccid_desktop.dicom.select.policy import DEFAULT_POLICY
from nccid_desktop.dicom.select.rules import Selection, SeriesDecision
from nccid_desktop.gui.icons import icon
from nccid_desktop.uk_dates import uk_date
from nccid_desktop.workflows.resumed_queue import (
    ResumedQueue,
    patient_label,
    row_key,
    series_label,
    study_label,
)
from nccid_desktop.workflows.words import readable_size

__all__ = ["COLUMNS", "DETAILS_ROLE", "PHASE_ICONS", "SERIES_UID_ROLE", "STATUS_COLUMN", "build_model",
           "build_queue_model", "readable_size", "series_details", "series_status"]

COLUMNS = ("Patient / study / series", "Date", "Modality", "Description", "Images", "Size",
           "Status")
STATUS_COLUMN = COLUMNS.index("Status")
SERIES_UID_ROLE = Qt.ItemDataRole.UserRole + 1
#: The full reason of a series (with its technical detail), shown when the row is chosen.
DETAILS_ROLE = Qt.ItemDataRole.UserRole + 2
#: Series the user may tick or untick: chosen by the rules or the user, or left out for a
#: reason the user may override (never quarantined or held back).
USER_CHOICE = {"will_send", "excluded_by_user", "included_by_user"}
#: The icon beside a series' state while it is sent (the words say the same).
PHASE_ICONS = {"waiting": "idle", "queued": "idle", "deidentifying": "working", "sending": "working",
               "sent": "success", "paused": "paused", "stopped": "error"}


def _status_icon(decision: SeriesDecision) -> str:
    if decision.included:
        return "success"
    return "error" if decision.code == "quarantined" else "warning"


def _row(texts: list[str]) -> list[QStandardItem]:
    items = []
    for text in texts:
        item = QStandardItem(text)
        item.setEditable(False)
        item.setToolTip(text)
        items.append(item)
    return items


def series_status(decision: SeriesDecision) -> str:
    """What the Status column says: the reason in plain words (the technical detail, such
    as the modality code, is in :func:`series_details`, shown when the series is chosen)."""
    text = decision.reason
    if decision.warnings:
        text += ". " + " ".join(decision.warnings)
    return text


def series_details(decision: SeriesDecision) -> str:
    """The whole story of one series, for its tooltip and the details line under the tree."""
    text = decision.reason + (f" ({decision.detail})" if decision.detail else "")
    if decision.warnings:
        text += ". " + " ".join(decision.warnings)
    return text


def build_model(selection: Selection) -> tuple[QStandardItemModel, dict[str, QStandardItem]]:
    """The tree, and each series' status item by source SeriesInstanceUID (for updates)."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(list(COLUMNS))
    status_items: dict[str, QStandardItem] = {}
    patients: dict[int, QStandardItem] = {}
    studies: dict[int, QStandardItem] = {}
    for decision in selection.decisions:
        patient, study, series = decision.patient, decision.study, decision.series
        if id(patient) not in patients:
            label = patient.patient_id or "(no patient ID)"
            if decision.pseudonym:
                label += f" → {decision.pseudonym}"
            # the hospital number and its pseudonym, never the name: the row is read over
            # shoulders, and the name links nothing the user needs here
            row = _row([label, "", "", "", "", "", ""])
            model.appendRow(row)
            patients[id(patient)] = row[0]
        if id(study) not in studies:
            row = _row(["Study", uk_date(study.date), "",
                        study.description, "", "", ""])
            patients[id(patient)].appendRow(row)
            studies[id(study)] = row[0]
        row = _row([f"Series {series.number if series.number is not None else '?'}",
                    uk_date(series.date), series.modality,
                    series.description, str(series.instance_count), readable_size(series.bytes),
                    series_status(decision)])
        row[0].setData(series.series_uid, SERIES_UID_ROLE)
        if decision.code in USER_CHOICE or decision.code in DEFAULT_POLICY.overridable:
            row[0].setCheckable(True)
            row[0].setCheckState(Qt.CheckState.Checked if decision.included
                                 else Qt.CheckState.Unchecked)
            row[0].setAccessibleText("Send this series" if decision.included
                                     else "Left out by you" if decision.code in USER_CHOICE
                                     else "Left out by the rules: tick to send it anyway")
        row[STATUS_COLUMN].setIcon(icon(_status_icon(decision)))
        details = series_details(decision)
        for item in row:
            item.setData(details, DETAILS_ROLE)
        row[STATUS_COLUMN].setToolTip(details)
        studies[id(study)].appendRow(row)
        status_items[series.series_uid] = row[STATUS_COLUMN]
    _summarise(model, selection)
    return model, status_items


def _summarise(model: QStandardItemModel, selection: Selection) -> None:
    """Each patient row says how many of its series will be sent."""
    by_patient: dict[str, list[SeriesDecision]] = {}
    for decision in selection.decisions:
        by_patient.setdefault(decision.patient.patient_id, []).append(decision)
    for row, decisions in enumerate(by_patient.values()):
        sent = sum(1 for d in decisions if d.included)
        item = model.item(row, STATUS_COLUMN)
        if item is not None:
            item.setText(f"{sent} of {len(decisions)} series will be sent")


def build_queue_model(queue: ResumedQueue) -> tuple[QStandardItemModel, dict[str, QStandardItem]]:
    """The tree of a resumed queue, and each series' status item by its row key."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(list(COLUMNS))
    status_items: dict[str, QStandardItem] = {}
    patients: dict[str, QStandardItem] = {}
    studies: dict[tuple[str, str | None], QStandardItem] = {}
    for count in queue.rows:
        patient = count.pseudonym
        if patient not in patients:
            row = _row([patient_label(count), "", "", "", "", "",
                        "Left unfinished by an earlier run"])
            model.appendRow(row)
            patients[patient] = row[0]
        if (patient, count.study_uid) not in studies:
            row = _row([study_label(count), "", "", "", "", "", ""])
            patients[patient].appendRow(row)
            studies[(patient, count.study_uid)] = row[0]
        key = row_key(count)
        state = queue.series[key]
        row = _row([series_label(count), "", count.modality or "", "", str(count.total),
                    readable_size(count.size), state.describe()])
        row[STATUS_COLUMN].setIcon(icon(PHASE_ICONS[state.phase]))
        studies[(patient, count.study_uid)].appendRow(row)
        status_items[key] = row[STATUS_COLUMN]
    return model, status_items
