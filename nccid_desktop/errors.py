"""The exceptions the core raises, each carrying a message written for the person at the desk.

Why a hierarchy: the GUI and the CLI show ``str(error)`` to nurses and PACS staff as it is, and
log the traceback separately. So a message must say what went wrong and what to do, in plain
English, and must never contain a patient identifier (the value that failed is named by its
column or cell, never echoed).
"""

from __future__ import annotations

import errno

#: The errnos of a full disk or a full quota.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


class NccidError(Exception):
    """Base of every error the app expects and explains.

    ``exit_code`` is what the CLI returns when this error ends a command.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(NccidError):
    """A settings, policy or key file is missing or malformed."""


class BadInputError(ConfigError):
    """The command was asked for something it cannot do as given (options that do not go
    together, a value out of range): bad input, exit code 2."""

    exit_code = 2


class InputNotFoundError(NccidError):
    """A file or folder the user named does not exist: bad input, exit code 2 in every
    command. The message names the path (the user chose it; nothing read from inside it)."""

    exit_code = 2


class NotInstalledError(ConfigError):
    """A part this command needs is not installed here (e.g. the collection service)."""

    exit_code = 2


class KeyFileError(ConfigError):
    """The site key file cannot be read, or belongs to another site."""


class IdentifierError(NccidError):
    """An NHS/CHI or hospital number is not valid (the message never repeats it)."""


class DiskFullError(NccidError):
    """A folder's disk has (or would have) too little free space for the work asked.

    Why its own kind: the work stops cleanly (nothing half-written kept or journaled as done)
    and finishes with Resume once space is freed, so the user is told which folder and how
    much to free, not "something unexpected went wrong".
    """

    def __init__(self, message: str, folder: object = None, needed_bytes: int = 0) -> None:
        super().__init__(message)
        self.folder = folder
        self.needed_bytes = needed_bytes


def is_disk_full(error: BaseException) -> bool:
    """Whether an ``OSError`` says the disk (or the user's quota) is full."""
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS


class SheetError(NccidError):
    """The spreadsheet cannot be read as an NCCID template at all."""

    exit_code = 2


class DicomError(NccidError):
    """A DICOM file or folder cannot be processed."""


class TransportError(NccidError):
    """The collection service could not be reached or refused the request."""


class AuthError(TransportError):
    """Sign-in failed: wrong password, locked account, expired password or session."""


class JournalError(NccidError):
    """The upload journal cannot be read or written (a job's sealed plan cannot be opened)."""


class CancelledError(NccidError):
    """The user cancelled the operation; nothing half-done was kept."""

    exit_code = 130

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)
