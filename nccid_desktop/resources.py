"""Where the shipped forms (``ui/``) and assets (``resources/``) are, however the app runs.

Why a lookup: the same files live in three places depending on how the app was installed:
inside the wheel (``nccid_desktop/_ui``), in a source checkout (``ui/`` beside the package),
or in a PyInstaller bundle (``sys._MEIPASS``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def _bundle_dir() -> Path | None:
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else None


def ui_dir() -> Path:
    """Folder holding the Qt Designer forms and the QSS theme."""
    bundle = _bundle_dir()
    return _first_existing(
        *( [bundle / "ui"] if bundle else [] ),
        _PACKAGE_DIR / "_ui",
        _PACKAGE_DIR.parent / "ui",
    )


def resources_dir() -> Path:
    """Folder holding icons, guidance text, sample data and data tables."""
    bundle = _bundle_dir()
    return _first_existing(
        *( [bundle / "resources"] if bundle else [] ),
        _PACKAGE_DIR / "_resources",
        _PACKAGE_DIR.parent / "resources",
    )


def resource(*parts: str) -> Path:
    """Path of one shipped resource file, e.g. ``resource("guidance", "faq.md")``."""
    return resources_dir().joinpath(*parts)
