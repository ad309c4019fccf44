"""Sealing what the job journal must keep but nobody may read: where a job's source files are.

Why seal rather than leave out: a send is journaled before its first file is de-identified,
so that after a crash the whole job can be finished, and finishing it means opening the same
source files again. Their paths are the only way back to them, and PACS exports name folders
after patients (``SMITH^JOHN 9434765919/``). So the journal keeps them sealed with AES-256-GCM
under a per-user key held in its own file, outside the journal's folder (in the settings
folder, readable by the user only): a copy of the journal, a backup of the data folder or a
diagnostics bundle (which never reads the key file) gives nothing away.

The key is made on first use, written whole to a temporary file and hard-linked into place,
so two processes starting at once agree on one key. Losing it loses only the ability to
finish unfinished jobs (the user is told, and can drop them); nothing already staged or sent
depends on it.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nccid_desktop.errors import JournalError
from nccid_desktop.keys import write_secret_file
from nccid_desktop.paths import user_config_dir

log = logging.getLogger(__name__)

JOURNAL_KEY_FILE = "journal.key"
KEY_BYTES = 32
NONCE_BYTES = 12
#: The sealed form: this prefix, the nonce, then the ciphertext with its tag.
SEALED_PREFIX = b"nccid-seal-v1:"

CANNOT_OPEN = ("This unfinished job cannot be resumed on this computer: the key that protects "
               "its list of files is missing or different (the user profile may have been "
               "reset). Drop the job and send those images again.")


def journal_key_path() -> Path:
    """Where the user's journal key lives: the settings folder, never the journal's folder."""
    return user_config_dir() / JOURNAL_KEY_FILE


class JournalSeal:
    """Seals and opens small values under the per-user journal key (made on first seal)."""

    def __init__(self, key_file: Path | None = None) -> None:
        self.key_file = Path(key_file) if key_file else journal_key_path()

    def __repr__(self) -> str:
        return "JournalSeal(<key file>)"

    def seal(self, plain: bytes, context: bytes) -> bytes:
        """``plain`` sealed; ``context`` is bound to it (the same must be given to open it)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return SEALED_PREFIX + nonce + AESGCM(self._key(create=True)).encrypt(nonce, plain,
                                                                              context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """The plain value; :class:`JournalError` when the key is gone or does not fit."""
        if not sealed.startswith(SEALED_PREFIX):
            raise JournalError(CANNOT_OPEN)
        body = sealed[len(SEALED_PREFIX):]
        try:
            return AESGCM(self._key(create=False)).decrypt(body[:NONCE_BYTES],
                                                           body[NONCE_BYTES:], context)
        except InvalidTag:
            raise JournalError(CANNOT_OPEN) from None

    def _key(self, *, create: bool) -> bytes:
        try:
            key = self.key_file.read_bytes()
        except FileNotFoundError:
            if not create:
                raise JournalError(CANNOT_OPEN) from None
            key = self._create()
        except OSError:
            raise JournalError("The journal key file cannot be read. Check that your user "
                               "account may read its own settings folder.") from None
        if len(key) != KEY_BYTES:
            raise JournalError(CANNOT_OPEN)
        return key

    def _create(self) -> bytes:
        pending = self.key_file.with_name(f".{self.key_file.name}.{secrets.token_hex(6)}.new")
        try:
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            write_secret_file(pending, secrets.token_bytes(KEY_BYTES))
            try:
                os.link(pending, self.key_file)
                log.info("Created the journal key file")
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                pending.unlink(missing_ok=True)
            return self.key_file.read_bytes()
        except OSError:
            raise JournalError("The journal key file cannot be created. Check that your user "
                               "account may write to its own settings folder.") from None
