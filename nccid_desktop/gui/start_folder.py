"""Where Browse opens: the sample data in demo mode, else the last folder used, else Documents.

Why remembered: a PACS user exports to the same share every week, and a nurse keeps the sheets
in one folder; opening the app's working directory made them click their way there each time.
Demo mode's samples live in the app's data folder, which file dialogs hide, so Browse starts
there. The last folder is kept beside the app's other local state (never in a log).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from nccid_desktop.gui.context import AppContext

LAST_FOLDER_FILE = "last-folder.json"


def start_folder(context: AppContext) -> Path:
    """The folder a file dialog should open in."""
    if context.samples is not None and context.samples.is_dir():
        return context.samples
    last = _last_folder(context.data_dir)
    if last is not None:
        return last
    documents = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return Path.home()


def remember_folder(context: AppContext, chosen: Path) -> None:
    """Keep the folder of what the user chose (a file's folder, or the folder itself)."""
    folder = chosen if chosen.is_dir() else chosen.parent
    with contextlib.suppress(OSError):
        context.data_dir.mkdir(parents=True, exist_ok=True)
        (context.data_dir / LAST_FOLDER_FILE).write_text(
            json.dumps({"folder": str(folder)}), encoding="utf-8")


def _last_folder(data_dir: Path) -> Path | None:
    try:
        folder = Path(json.loads((data_dir / LAST_FOLDER_FILE).read_text(encoding="utf-8"))
                      ["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder if folder.is_dir() else None
