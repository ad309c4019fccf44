"""Column widths for the app's tables and trees: every header readable, the view filled.

Why one helper: Qt's default is 100 pixels a column whatever it holds, which cut the checker's
"Status (negative)" header to "tatus (negative" and left half of each table empty. Here every
column is as wide as its header and its contents, and the last (the one with sentences: a
status, a message) takes the rest of the width, its long texts wrapped onto more lines rather
than cut with "…". Qt's tree measures rows without the column's width, so it never wraps;
:class:`WrappingDelegate` gives it the width.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize
from PySide6.QtWidgets import (
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
)

_TALL = 1 << 20


def fit_columns(view: QTableView | QTreeView) -> None:
    """Size every column to its header and contents; the last one fills the rest."""
    header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    if header.count():
        header.setSectionResizeMode(header.count() - 1, QHeaderView.ResizeMode.Stretch)
    if isinstance(view, QTreeView) and not isinstance(view.itemDelegate(), WrappingDelegate):
        view.setItemDelegate(WrappingDelegate(view))
        header.sectionResized.connect(lambda *_: view.doItemsLayout())


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
