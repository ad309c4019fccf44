"""What the user sees, measured: text cut off without a tooltip, widgets on top of each other,
and text too faint to read (WCAG AA, 4.5:1), on a live window.

Why measured and not looked at: a screenshot reviewed by eye passes whatever the reviewer
missed; these rules run on every page in every state at every size. Each rule reads the real
widgets: their text and font metrics against their rectangles (labels, buttons, header
sections, item view cells), sibling geometry, and the text colour (the palette the stylesheet
resolved) against the background actually rendered behind the text (a grab of the window,
so a frame's stylesheet background counts).

A problem is a plain dict (page, what, widget, detail) so a child process can report it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTextEdit,
    QTreeView,
    QWidget,
)

AA_CONTRAST = 4.5
TOLERANCE = 2  # pixels: rounding at fractional scale factors
MAX_ROWS = 120  # cells looked at per view (the rows in view at these sizes, and more)
#: Room a header section or a cell needs beyond its text (style margins), in pixels.
SECTION_MARGIN = 8
CELL_MARGIN = 4


def _name(widget: QWidget) -> str:
    names = []
    while widget is not None and len(names) < 3:
        if widget.objectName() and not widget.objectName().startswith("qt_"):
            names.append(widget.objectName())
        widget = widget.parentWidget()
    return "/".join(reversed(names)) or type(widget).__name__


def _plain(text: str) -> str:
    """Text as drawn: mnemonics (``&Browse``) lose their ampersand, ``&&`` shows one."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def _widgets(root: QWidget) -> Iterator[QWidget]:
    for child in root.findChildren(QWidget):
        if _shown(child) and child.window() is root.window():
            yield child


# --- text cut off ------------------------------------------------------------------------
def _label_problem(label: QLabel) -> str | None:
    text = label.text()
    if not text or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    if label.textFormat() == Qt.TextFormat.RichText or (
            label.textFormat() == Qt.TextFormat.AutoText and "<" in text and ">" in text):
        return None
    room = label.contentsRect().adjusted(label.margin(), label.margin(), -label.margin(),
                                         -label.margin())
    metrics = label.fontMetrics()
    if label.wordWrap():
        needed = metrics.boundingRect(QRect(0, 0, max(room.width(), 1), 1 << 20),
                                      int(Qt.TextFlag.TextWordWrap), _plain(text)).height()
        if needed > room.height() + TOLERANCE:
            return f"wrapped text needs {needed} px of height, has {room.height()}"
        return None
    longest = max(metrics.horizontalAdvance(line) for line in _plain(text).splitlines() or [""])
    if longest > room.width() + TOLERANCE and not label.toolTip():
        return f"text needs {longest} px, has {room.width()}"
    return None


def _button_problem(button: QAbstractButton) -> str | None:
    text = _plain(button.text())
    if not text:
        return None
    natural = button.sizeHint().width()
    if isinstance(button, QPushButton) and button.width() > max(1.5 * natural, natural + 80):
        return f"stretched to {button.width()} px for a text that needs {natural}"
    metrics = button.fontMetrics()
    needed = metrics.horizontalAdvance(text)
    if not button.icon().isNull():
        needed += button.iconSize().width() + 4
    if isinstance(button, QCheckBox | QRadioButton):
        needed += 20
    room = button.contentsRect().width() - (0 if isinstance(button, QCheckBox | QRadioButton)
                                             else 8)
    if needed > room + TOLERANCE and not button.toolTip():
        return f"text needs {needed} px, has {room}"
    return None


def _header_problems(view: QAbstractItemView, header: QHeaderView) -> Iterator[str]:
    model = view.model()
    if model is None or not _shown(header):
        return
    metrics = QFontMetrics(header.font())
    viewport = header.viewport().width()
    if header.orientation() == Qt.Orientation.Horizontal and header.stretchLastSection() \
            and header.length() > viewport + TOLERANCE:
        # a view meant to fill its width (its last column: the statuses, the messages)
        # pushes that column out of sight: the user would have to scroll sideways to read it
        yield (f"columns need {header.length()} px, the view has {viewport}: the last column "
               "is cut off")
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        start = header.sectionViewportPosition(section)
        if start >= viewport or start + header.sectionSize(section) <= 0:
            continue  # scrolled out of sight
        text = model.headerData(section, header.orientation())
        if not isinstance(text, str) or not text:
            continue
        tooltip = model.headerData(section, header.orientation(), Qt.ItemDataRole.ToolTipRole)
        needed = metrics.horizontalAdvance(text) + SECTION_MARGIN
        if needed > header.sectionSize(section) + TOLERANCE and not tooltip:
            yield f"header {text!r} needs {needed} px, has {header.sectionSize(section)}"


def _visible_indexes(view: QAbstractItemView) -> Iterator[QModelIndex]:
    viewport = view.viewport().rect()
    index = view.indexAt(QPoint(1, 1))
    seen = 0
    while index.isValid() and seen < MAX_ROWS:
        row_rect = view.visualRect(index)
        if row_rect.top() > viewport.bottom():
            break
        column = 0
        while (cell := index.siblingAtColumn(column)).isValid():
            yield cell
            column += 1
        seen += 1
        below = view.indexAt(QPoint(1, row_rect.bottom() + 2))
        if not below.isValid() or below == index:
            break
        index = below


def _cell_problems(view: QAbstractItemView) -> Iterator[str]:
    if view.model() is None:
        return
    metrics = view.fontMetrics()
    viewport = view.viewport().rect()
    wraps = bool(getattr(view, "wordWrap", lambda: False)())
    for index in _visible_indexes(view):
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text:
            continue
        rect = view.visualRect(index)
        if isinstance(view, QTreeView) and index.column() == 0 and \
                view.isFirstColumnSpanned(index.row(), index.parent()):
            rect.setRight(viewport.right())
        if rect.width() <= 0 or not rect.intersects(viewport):
            continue
        room = rect.width() - CELL_MARGIN
        decoration = index.data(Qt.ItemDataRole.DecorationRole)
        if decoration is not None and not getattr(decoration, "isNull", lambda: False)():
            room -= view.iconSize().width() if view.iconSize().isValid() else 16
            room -= 4
        if index.data(Qt.ItemDataRole.CheckStateRole) is not None:
            room -= 20
        tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
        width = max(metrics.horizontalAdvance(line) for line in text.splitlines() or [""])
        if width <= room + TOLERANCE:
            continue
        if wraps and " " in text:
            needed = metrics.boundingRect(QRect(0, 0, max(room, 1), 1 << 20),
                                          int(Qt.TextFlag.TextWordWrap), text).height()
            elided_with_tooltip = tooltip and view.textElideMode() != Qt.TextElideMode.ElideNone
            if needed > rect.height() + TOLERANCE and not elided_with_tooltip:
                yield (f"cell {text!r} is cut: wrapped it needs {needed} px of height, "
                       f"has {rect.height()}")
            continue
        if view.textElideMode() == Qt.TextElideMode.ElideNone:
            yield f"cell {text!r} is cut: needs {width} px, has {room}"
        elif not tooltip:
            yield f"cell {text!r} is elided without a tooltip ({width} px in {room})"


def elided(root: QWidget) -> list[tuple[str, str]]:
    found = []
    for widget in _widgets(root):
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
            if problem:
                found.append((_name(widget), f"{widget.text()!r}: {problem}"))
        elif isinstance(widget, QAbstractButton) and not widget.parent().inherits("QTabBar"):
            problem = _button_problem(widget)
            if problem:
                found.append((_name(widget), f"{widget.text()!r}: {problem}"))
        elif isinstance(widget, QAbstractItemView) and not isinstance(widget, QHeaderView):
            headers = [getattr(widget, "horizontalHeader", lambda: None)(),
                       getattr(widget, "header", lambda: None)()]
            for header in headers:
                if header is not None:
                    found += [(_name(widget), p) for p in _header_problems(widget, header)]
            found += [(_name(widget), p) for p in _cell_problems(widget)]
    return found


# --- overlap -----------------------------------------------------------------------------
_INTERNAL = (QAbstractScrollArea, QComboBox, QLineEdit, QAbstractButton)


def overlapping(root: QWidget) -> list[tuple[str, str]]:
    """Visible siblings whose rectangles intersect (by more than rounding)."""
    found = []
    parents = [root, *(w for w in _widgets(root) if not isinstance(w, _INTERNAL))]
    for parent in parents:
        if parent.inherits("QSplitter") or parent.inherits("QTabWidget") or \
                parent.inherits("QStackedWidget"):
            continue
        children = [c for c in parent.findChildren(QWidget, options=Qt.FindChildOption.
                                                   FindDirectChildrenOnly)
                    if _shown(c) and not c.isWindow() and c.objectName()
                    and not c.objectName().startswith("qt_")]
        for i, first in enumerate(children):
            for second in children[i + 1:]:
                shared = first.geometry().intersected(second.geometry())
                if shared.width() > TOLERANCE and shared.height() > TOLERANCE:
                    found.append((f"{_name(first)} + {second.objectName()}",
                                  f"overlap of {shared.width()}x{shared.height()} px"))
    return found


# --- contrast ----------------------------------------------------------------------------
def _luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + \
        0.0722 * channel(color.blue())


def contrast(one: QColor, other: QColor) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _background(image: QImage, rect: QRect, ratio: float) -> QColor:
    """The colour most of the widget's rendered pixels have (text is the minority)."""
    box = QRect(int(rect.x() * ratio), int(rect.y() * ratio), int(rect.width() * ratio),
                int(rect.height() * ratio)).intersected(image.rect())
    if box.isEmpty():
        return QColor("white")
    counts: Counter[int] = Counter()
    step_x, step_y = max(1, box.width() // 40), max(1, box.height() // 12)
    for y in range(box.top(), box.bottom() + 1, step_y):
        for x in range(box.left(), box.right() + 1, step_x):
            counts[image.pixel(x, y)] += 1
    return QColor.fromRgb(counts.most_common(1)[0][0])


_TEXT_WIDGETS = (QLabel, QPushButton, QCheckBox, QRadioButton)


def faint(root: QWidget) -> list[tuple[str, str]]:
    """Enabled text whose colour is under 4.5:1 against what is drawn behind it."""
    window = root.window()
    image = window.grab().toImage()
    ratio = image.devicePixelRatio() or 1.0
    found = []
    for widget in _widgets(root):
        if not isinstance(widget, (*_TEXT_WIDGETS, QLineEdit, QPlainTextEdit, QTextEdit)):
            continue
        if not widget.isEnabled():
            continue  # WCAG exempts inactive controls; locked settings are not disabled
        if isinstance(widget, QLabel | QAbstractButton) and not _plain(widget.text()):
            continue
        if isinstance(widget, QLabel) and widget.pixmap() is not None \
                and not widget.pixmap().isNull():
            continue
        palette = widget.palette()
        if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
            text = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)
            target = widget.contentsRect()
        else:
            text = palette.color(QPalette.ColorGroup.Active, widget.foregroundRole())
            target = widget.rect()
        top_left = widget.mapTo(window, target.topLeft())
        behind = _background(image, QRect(top_left, target.size()), ratio)
        ratio_found = contrast(text, behind)
        if ratio_found < AA_CONTRAST:
            found.append((_name(widget), f"text {text.name()} on {behind.name()} is "
                          f"{ratio_found:.2f}:1, under {AA_CONTRAST}:1"))
    return found


def audit(root: QWidget, page: str) -> list[dict[str, str]]:
    """Every problem on ``root`` as the user sees it now."""
    problems = []
    for what, rule in (("elided", elided), ("overlap", overlapping), ("contrast", faint)):
        for widget, detail in rule(root):
            problems.append({"page": page, "what": what, "widget": widget, "detail": detail})
    return problems
