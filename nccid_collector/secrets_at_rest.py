"""Site pseudonym keys sealed at rest with a master key kept outside the database.

Why: a site's secret is the HMAC key behind every pseudonym of that site, so whoever holds it
and a list of NHS or hospital numbers can re-identify patients. A database dump or backup on
its own must therefore not reveal it. Each secret is sealed with AES-256-GCM under a 32-byte
master key read from a file the database never sees, with a fresh 96-bit nonce per write and
the site code as associated data (a sealed value copied to another site's row does not open).
The stored text is versioned (``v1:`` + base64(nonce + ciphertext)) so the scheme can change.

Failures are plain English and fail closed: a missing, unreadable, wrong-length or wrong key
stops the service; nothing here ever puts the key, a secret or a ciphertext in a message.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nccid_desktop.errors import ConfigError, NccidError
from nccid_desktop.keys import write_secret_file

log = logging.getLogger(__name__)

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12
SEALED_PREFIX = "v1:"
MASTER_KEY_FILE_NAME = "collector-master.key"
_ASSOCIATED_LABEL = b"nccid-collector/sites.secret/"


class MasterKeyError(ConfigError):
    """The master key that opens the sealed site keys is missing, unreadable or wrong."""


class SealedSecretError(NccidError):
    """One stored site key does not open: altered, copied from another site, or a new format."""


def is_sealed(stored: str) -> bool:
    """Whether a ``sites.secret`` value is sealed (plain base64 never contains a colon)."""
    return ":" in stored


def _associated_data(site: str) -> bytes:
    return _ASSOCIATED_LABEL + site.encode("ascii")


class MasterKey:
    """The 32-byte key that seals and opens site secrets; it never prints itself."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"A master key must be {MASTER_KEY_BYTES} bytes long.")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    def seal(self, site: str, secret: bytes) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret, _associated_data(site))
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, site: str, stored: str) -> bytes:
        """The secret sealed in ``stored`` for ``site``, or :class:`SealedSecretError`."""
        if not stored.startswith(SEALED_PREFIX):
            raise SealedSecretError(f"The stored key of site {site} is in a format this "
                                    "version of the service does not know.")
        try:
            raw = base64.b64decode(stored[len(SEALED_PREFIX):], validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                      _associated_data(site))
        except (binascii.Error, ValueError, InvalidTag):
            pass  # leave the block so no cause (which could quote data) is chained
        raise SealedSecretError(f"The stored key of site {site} cannot be opened with this "
                                "master key: it was sealed with another key, altered, or "
                                "copied from another site.")


def plain_secret(site: str, stored: str) -> bytes:
    """The secret of a row written before sealing existed (plain base64)."""
    try:
        return base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        pass
    raise SealedSecretError(f"The stored key of site {site} is neither sealed nor valid "
                            "base64; restore the sites table from a backup.")


def restore_advice(path: Path) -> str:
    """What an administrator does when the key cannot be used (the service stays down)."""
    return (f"Restore the master key file {path} from its backup, or point the service at it "
            "with --master-key-file or NCCID_COLLECTOR_MASTER_KEY_FILE. The service has not "
            "started.")


def load_master_key(path: Path) -> MasterKey:
    """Read the key file; every way it can fail is a :class:`MasterKeyError`."""
    try:
        content = Path(path).read_bytes()
    except FileNotFoundError:
        raise MasterKeyError("The master key file is missing but the database holds sealed "
                             f"site keys. {restore_advice(path)}") from None
    except OSError as exc:
        raise MasterKeyError(f"The master key file {path} cannot be read "
                             f"({type(exc).__name__}). Check that it is a file the service's "
                             "account may read. The service has not started.") from None
    if len(content) != MASTER_KEY_BYTES:
        raise MasterKeyError(f"The master key file {path} is {len(content)} bytes long, not "
                             f"{MASTER_KEY_BYTES}: it is not a master key. "
                             f"{restore_advice(path)}")
    if os.name == "posix" and Path(path).stat().st_mode & 0o077:
        log.warning("The master key file %s can be read by other accounts; make it readable "
                    "by the service's account only (chmod 600).", path)
    return MasterKey(content)


def create_master_key(path: Path) -> MasterKey:
    """A new random master key written to ``path`` (mode 0600, atomically, never overwriting).

    The key is written whole to a temporary file, then hard-linked into place: a crash leaves
    no half-written key, and two services starting at once cannot replace each other's key.
    """
    path = Path(path)
    pending = path.with_name(f".{path.name}.{secrets.token_hex(6)}.new")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_secret_file(pending, secrets.token_bytes(MASTER_KEY_BYTES))
        try:
            os.link(pending, path)
        except FileExistsError:
            log.info("Another process created the master key file first; using it.")
        finally:
            pending.unlink(missing_ok=True)
    except OSError as exc:
        raise MasterKeyError(f"The master key file {path} cannot be created "
                             f"({type(exc).__name__}). Check the folder exists and the "
                             "service's account may write to it.") from None
    log.info("Created the master key file %s; back it up apart from the database.", path)
    return load_master_key(path)
