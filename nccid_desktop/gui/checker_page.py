"""NHS/CHI Checker: numbers checked as typed, encoded on this computer, then looked up.

Why only keyed hashes leave: the service holds an index of each patient's NHS/CHI number made
with the site's secret (:func:`nccid_desktop.pseudonym.nhs_index`); the page computes the same
index here and sends only that. The numbers themselves stay on the user's screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QTableWidgetItem, QWidget

from nccid_desktop.errors import NccidError
from nccid_desktop.gui.columns import fit_columns
from nccid_desktop.gui.context import AppContext
from nccid_desktop.gui.forms.checker_page import Ui_CheckerPage
from nccid_desktop.gui.start_folder import remember_folder, start_folder
from nccid_desktop.gui.take_back_dialog import TakeBackDialog, take_back_button
from nccid_desktop.gui.workers import workflow_task
from nccid_desktop.identifiers import check_nhs_number
from nccid_desktop.keys import SiteKeys
from nccid_desktop.pseudonym import nhs_index
from nccid_desktop.transport.client import CheckerResult, CollectorClient
from nccid_desktop.uk_dates import uk_prose_of
from nccid_desktop.workflows.numbers_file import read_numbers_file
from nccid_desktop.workflows.words import plural


def read_numbers(path: Path, *, progress: object = None, cancel: object = None) -> list[str]:
    """The file's lines, in a worker (the same reading as ``nccid check --file``)."""
    return read_numbers_file(path)


@dataclass(frozen=True)
class TypedNumber:
    line: int
    text: str
    number: str | None
    problem: str


def typed_numbers(text: str) -> list[TypedNumber]:
    """Each non-empty line, checked (the message never repeats the number)."""
    found = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        check = check_nhs_number(raw)
        found.append(TypedNumber(line, raw.strip(), check.value if check.ok else None,
                                 "" if check.ok else check.message))
    return found


def checker_task(keys: SiteKeys, client: CollectorClient, numbers: list[str]):
    def task(progress, cancel) -> list[CheckerResult]:
        return client.check([nhs_index(keys, n) for n in numbers])

    return task


class CheckerPage(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = Ui_CheckerPage()
        self.form.setupUi(self)
        self.context = context
        self.valid: list[TypedNumber] = []
        self.form.progressPanel.reset()
        # the received dates take the room; the counts are as wide as their headers
        fit_columns(self.form.results, stretch=(2, 3))
        self.form.numbers.textChanged.connect(self.recheck)
        self.form.checkButton.clicked.connect(self.check)
        self.form.fromFileButton.clicked.connect(self.ask_numbers_file)
        self.form.progressPanel.retryRequested.connect(self.check)
        self.takeBackButton = take_back_button(self)
        self.recheck()

    def recheck(self) -> None:
        typed = typed_numbers(self.form.numbers.toPlainText())
        self.valid = [t for t in typed if t.number]
        bad = [t for t in typed if not t.number]
        if not typed:
            text = "Type or paste NHS/CHI numbers, one per line."
        else:
            text = f"{plural(len(self.valid), 'valid number')}"
            if bad:
                text += f"; {plural(len(bad), 'line')} not valid: " + "; ".join(
                    f"line {t.line}: {t.problem}" for t in bad[:3])
        self.form.typedStatus.setText(text)
        self.form.checkButton.setEnabled(bool(self.valid) and self.context.keys is not None)
        self.takeBackButton.setEnabled(self.context.keys is not None)

    def open_take_back(self) -> None:
        """Withdraw a patient or remove a study: the first valid number typed, pre-filled."""
        first = self.valid[0].number if self.valid else ""
        TakeBackDialog(self.context, first or "", self).exec()

    def ask_numbers_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file of NHS/CHI numbers",
                                              str(start_folder(self.context)),
                                              "Text files (*.txt *.csv);;All files (*)")
        if path:
            remember_folder(self.context, Path(path))
            self.check_file(Path(path))

    def check_file(self, path: Path) -> None:
        """What ``nccid check --file`` does: read the numbers (in the background), then
        check the valid ones; the invalid lines are named as when typed."""
        panel = self.form.progressPanel
        panel.start(f"Reading {path.name}…", can_cancel=False)
        self.context.pool.run(workflow_task(read_numbers, path), name="numbers-file",
                              on_result=self._numbers_read,
                              on_error=lambda e: panel.fail(str(e), can_retry=False,
                                                            headline="Could not read the file"))

    def _numbers_read(self, numbers: list[str]) -> None:
        self.form.numbers.setPlainText("\n".join(numbers))
        if self.valid and self.context.keys is not None:
            self.check()
        else:
            self.form.progressPanel.fail(self.form.typedStatus.text(), can_retry=False,
                                         headline="No valid numbers in the file")

    def check(self) -> None:
        if not self.valid or self.context.keys is None:
            return
        numbers = list(self.valid)
        panel = self.form.progressPanel
        panel.start(f"Checking {plural(len(numbers), 'patient')}…", can_cancel=False)
        self.form.checkButton.setEnabled(False)
        self.context.pool.run(
            checker_task(self.context.keys, self.context.require_client(),
                         [n.number or "" for n in numbers]),
            name="checker", on_result=lambda r: self._show(numbers, r), on_error=self._failed)

    def _show(self, numbers: list[TypedNumber], results: list[CheckerResult]) -> None:
        table = self.form.results
        table.setRowCount(len(results))
        for row, (typed, result) in enumerate(zip(numbers, results, strict=True)):
            cells = [str(typed.line), typed.text,
                     f"Received {uk_prose_of(result.clinical_data)}" if result.clinical_data
                     else "Not received",
                     f"Received {uk_prose_of(result.status)}" if result.status
                     else "Not received",
                     str(result.studies), str(result.images)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        found = sum(1 for r in results if r.clinical_data or r.status or r.images)
        self.form.progressPanel.succeed(f"{found} of {plural(len(results), 'patient')} have "
                                        "something at NCCID.", headline="Check finished")
        self.form.checkButton.setEnabled(True)

    def _failed(self, error: NccidError) -> None:
        self.form.progressPanel.fail(str(error), headline="Could not check: see below")
        self.form.checkButton.setEnabled(True)
