"""Progress reporting and cancellation shared by every long-running core operation.

Why here and not in the GUI: the core must stay Qt-free, yet the GUI needs to show progress
and stop work. Core functions accept a :class:`CancelToken` and a progress callback; the GUI
wraps them in one worker mechanism, the CLI in a console printer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from nccid_desktop.errors import CancelledError


@dataclass(frozen=True)
class Progress:
    """How far an operation has got; ``total`` is None while it is unknown."""

    done: int
    total: int | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """Default callback for callers that do not show progress."""


class CancelToken:
    """A thread-safe flag that long operations poll between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError()


class EitherToken(CancelToken):
    """Cancelled when any of its tokens is (a send stops de-identifying for Pause or Cancel)."""

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    @property
    def cancelled(self) -> bool:
        return super().cancelled or any(token.cancelled for token in self._tokens)

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise CancelledError()


NEVER_CANCELLED = CancelToken()
