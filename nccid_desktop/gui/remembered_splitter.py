"""Splitters that keep where the user left them, across pages and sessions.

Why: a nurse who drags the problems pane narrower to see more of the sheet should find it
there the next time, not reset at every check or start. The sizes go beside the app's other
local state (a small JSON file in the data folder, never in a log).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from PySide6.QtWidgets import QSplitter

LAYOUT_FILE = "layout.json"


def _read(path: Path) -> dict[str, list[int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember_splitter(splitter: QSplitter, key: str, data_dir: Path,
                      default_stretch: tuple[int, ...] = ()) -> None:
    """Restore ``splitter``'s sizes saved under ``key`` (else share the room by
    ``default_stretch``) and save them whenever the user moves it."""
    for index, factor in enumerate(default_stretch):
        splitter.setStretchFactor(index, factor)
    path = data_dir / LAYOUT_FILE
    saved = _read(path).get(key)
    if isinstance(saved, list) and len(saved) == splitter.count() and all(
            isinstance(n, int) and n >= 0 for n in saved) and any(saved):
        splitter.setSizes(saved)

    def save(*_: object) -> None:
        with contextlib.suppress(OSError):
            data = _read(path)
            data[key] = splitter.sizes()
            data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data), encoding="utf-8")

    splitter.splitterMoved.connect(save)
