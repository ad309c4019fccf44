"""NHS/CHI numbers from a text file, one a line: for ``nccid check --file`` and the checker's
"Check numbers from a file" alike (a list exported from a ward system, say)."""

from __future__ import annotations

from pathlib import Path

from nccid_desktop.errors import NccidError

#: A numbers file larger than this is not a list of numbers (10,000 lines of 12 characters).
MAX_BYTES = 1_000_000


class NumbersFileError(NccidError):
    """The file cannot be read as a list of numbers (bad input)."""

    exit_code = 2


def read_numbers_file(path: Path) -> list[str]:
    """The non-blank lines of ``path``, stripped (checked later, line by line)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise NumbersFileError(f"The file {path.name} is too large to be a list of NHS/CHI "
                                   "numbers (one a line).")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise NumbersFileError(f"The file {path.name} cannot be read as text with one NHS/CHI "
                               "number a line.") from None
    return [line.strip() for line in text.splitlines() if line.strip()]
