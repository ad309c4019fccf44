"""The link between the checked sheets and the scanned images, shown under Send Images' tree.

Why here and on the user's screen only: the guidance calls the link "extremely important", and
a nurse fixing a sheet needs the row and the hospital number of each patient without images
(and the studies that belong to no patient on the sheets). Those numbers are the user's own
data on their own screen; this widget never logs or sends them. The report itself is the
core's (:func:`nccid_desktop.dicom.select.links.link_report`), from the rows of the sheets
checked in this session (:meth:`AppContext.add_listed`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from nccid_desktop.dicom.select.links import LinkReport, ListedPatient, link_report
from nccid_desktop.dicom.select.rules import Selection

#: Rows of each list shown; the rest are counted (the CLI's scan report lists them all).
SHOWN = 20


class LinkReportView(QLabel):
    """The link report as text, hidden until a scan follows a checked sheet."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAccessibleName("Link between the sheets and the images")
        self.report: LinkReport | None = None
        self.hide()

    def show_for(self, selection: Selection | None, listed: list[ListedPatient]) -> None:
        if selection is None or not listed:
            self.report = None
            self.hide()
            return
        self.report = link_report(selection, listed)
        lines = self.report.text_lines()
        shown: list[str] = []
        hidden = 0
        run = 0
        for line in lines:
            run = run + 1 if line.startswith("  ") else 0
            if run > SHOWN:
                hidden += 1
                continue
            shown.append(line)
        if hidden:
            shown.append(f"… and {hidden} more (nccid scan --sheet lists them all).")
        self.setText("\n".join(shown))
        self.show()
