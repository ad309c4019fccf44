"""Column widths for the app's tables and trees: every header readable, the view filled.

Why one helper: Qt's default is 100 pixels a column whatever it holds, which cut the checker's
"Status (negative)" header to "tatus (negative" and left half of each table empty. Here every
column is as wide as its header and its contents, and the last (the one with sentences: a
status, a message) takes the rest of the width, its long texts wrapped onto more lines rather
than cut with "…". Qt's tree measures rows without the column's width, so it never wraps;
:class:`WrappingDelegate` gives it the width.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QTimer,
    Slot,
)
from PySide6.QtWidgets import (
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
)

_TALL = 1 << 20


#: The stretched columns (statuses, messages) keep at least this many average characters;
#: the other columns give up width first (their long texts end in "…", whole in a tooltip).
MIN_STRETCH_CHARACTERS = 24
#: A column that gives up width keeps at least this many characters (and its header).
MIN_COLUMN_CHARACTERS = 13


def fit_columns(view: QTableView | QTreeView, stretch: tuple[int, ...] = ()) -> None:
    """Size every column to its header and contents; the ``stretch`` columns (by default
    the last one) share the rest of the width, never less than
    :data:`MIN_STRETCH_CHARACTERS` each: when the contents are too wide for the view, the
    widest other columns are narrowed instead of pushing the statuses out of sight.
    Refitted whenever the view changes width or its contents change."""
    header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
    fitter = view.findChild(ColumnFitter)
    if fitter is None:
        fitter = ColumnFitter(view, header)
    fitter.stretch = stretch
    header.setStretchLastSection(not stretch)
    fitter.fit()
    if isinstance(view, QTreeView) and not isinstance(view.itemDelegate(), WrappingDelegate):
        view.setItemDelegate(WrappingDelegate(view))
        header.sectionResized.connect(lambda *_: view.doItemsLayout())


class ColumnFitter(QObject):
    """Keeps a view's columns fitted as the window is resized and rows arrive."""

    def __init__(self, view: QTableView | QTreeView, header: QHeaderView) -> None:
        super().__init__(view)
        self.view, self.header = view, header
        self.stretch: tuple[int, ...] = ()
        self._fitting = False
        self._model: QAbstractItemModel | None = None
        # one pending refit at a time, owned by the fitter: it dies with the view
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self.fit)
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._later.start()
        return False

    @Slot()
    def schedule(self) -> None:
        self._later.start()

    def _watch_model(self) -> None:
        model = self.view.model()
        if model is not None and model is not self._model:
            self._model = model
            for signal in (model.rowsInserted, model.modelReset, model.dataChanged):
                signal.connect(self.schedule)

    def fit(self) -> None:
        if self._fitting:
            return
        self._fitting = True
        try:
            self._fit()
        finally:
            self._fitting = False

    def _fit(self) -> None:
        view, header = self.view, self.header
        self._watch_model()
        count = header.count()
        if not count:
            return
        stretched = self.stretch or (count - 1,)
        average = view.fontMetrics().averageCharWidth()
        widths = {c: max(header.sectionSizeHint(c), view.sizeHintForColumn(c))
                  for c in range(count) if c not in stretched and not header.isSectionHidden(c)}
        floors = {c: max(header.sectionSizeHint(c), average * MIN_COLUMN_CHARACTERS)
                  for c in widths}
        room = view.viewport().width() - average * MIN_STRETCH_CHARACTERS * len(stretched)
        excess = sum(widths.values()) - room
        for column in sorted(widths, key=lambda c: widths[c] - floors[c], reverse=True):
            if excess <= 0:
                break
            give = min(excess, max(0, widths[column] - floors[column]))
            widths[column] -= give
            excess -= give
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        for column in stretched:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)


class WrappingDelegate(QStyledItemDelegate):
    """Row heights measured at the column's real width, so word-wrapped text gets its lines."""

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        view = self.view
        if not (view.wordWrap() and self._wraps(index)):
            return super().sizeHint(option, index)
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        item.rect = QRect(0, 0, max(self._text_width(index), 1), _TALL)
        item.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
        return view.style().sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, item, QSize(),
                                             view)

    def _wraps(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        """Only the stretched last column and rows spanning the view wrap; the others are
        as wide as their text, which measuring them wrapped would shrink."""
        last = self.view.header().count() - 1
        return index.column() == last or (
            index.column() == 0 and self.view.isFirstColumnSpanned(index.row(), index.parent()))

    def _text_width(self, index: QModelIndex | QPersistentModelIndex) -> int:
        view, column = self.view, index.column()
        if column != 0:
            return view.header().sectionSize(column)
        width = view.viewport().width()
        depth, parent = 1 if view.rootIsDecorated() else 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        return width - depth * view.indentation()
