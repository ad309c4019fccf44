"""How counts and sizes are said to the user, the same way on the screen and in the terminal."""

from __future__ import annotations

INVARIANT_PLURALS = frozenset({"series"})
IRREGULAR_PLURALS = {"study": "studies"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 patient``, ``2 patients``, ``3 series``, ``2 studies``."""
    if count == 1 or word in INVARIANT_PLURALS:
        return f"{count} {word}"
    return f"{count} {many or IRREGULAR_PLURALS.get(word, word + 's')}"


def readable_size(size: float) -> str:
    """``512 bytes``, ``1.5 MB``: sizes as people read them."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
