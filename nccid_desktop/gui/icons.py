"""Icons drawn for the app (``resources/icons/*.svg``), looked up by name."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from nccid_desktop.resources import resource


@cache
def icon(name: str) -> QIcon:
    """The SVG icon ``name``; a missing file is a packaging bug, so it fails loudly."""
    path = resource("icons", f"{name}.svg")
    if not path.is_file():
        raise FileNotFoundError(f"icon {name!r} is missing from {path.parent}")
    return QIcon(str(path))
