"""Render ``resources/icons/app.svg`` into ``packaging/windows/nccid-desktop.ico``.

Why: Windows wants an .ico (several sizes in one file) for the executables, the Start-menu
shortcut and Programs and Features; the SVG stays the single source of the drawing. Qt renders
it and writes the .ico with its own image plugin, so no other imaging library is needed.

Usage: ``QT_QPA_PLATFORM=offscreen python packaging/windows/make_icon.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QIcon, QImageWriter

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "resources" / "icons" / "app.svg"
TARGET = Path(__file__).resolve().parent / "nccid-desktop.ico"
SIZE = 256


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    image = QIcon(str(SOURCE)).pixmap(QSize(SIZE, SIZE)).toImage()
    writer = QImageWriter(str(TARGET), b"ico")
    if image.isNull() or not writer.write(image):
        print(f"Could not write {TARGET}: {writer.errorString()}")
        return 1
    del app
    print(f"Wrote {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
