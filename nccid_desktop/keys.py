"""Site key material: the secret behind every pseudonym, and the data controller's public key.

Why one object: the pseudonym of a sheet row, the PatientID of a de-identified image, the
shifted dates and remapped UIDs must agree on every workstation of a site, so they all derive
from one per-site secret issued by the collection service. In normal use the app fetches it
after sign-in and keeps it in memory only; ``nccid keys generate`` writes a key file for
offline and test use (and the controller's private key to a separate file, for the controller).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nccid_desktop.errors import KeyFileError

KEY_FILE_FORMAT = "nccid-site-keys"
KEY_FILE_VERSION = 1
SECRET_BYTES = 32
SITE_CODE = re.compile(r"^[A-Z0-9]{2,16}$")


def check_site_code(site: str) -> str:
    """Site codes are short upper-case codes (e.g. ``RSH``): they name warehouse folders."""
    code = site.strip().upper()
    if not SITE_CODE.fullmatch(code):
        raise KeyFileError(
            "The site code must be 2 to 16 letters or digits, for example RSH."
        )
    return code


@dataclass(frozen=True)
class SiteKeys:
    """A site's secret and the data controller's public key (PEM)."""

    site: str
    secret: bytes = field(repr=False)
    controller_public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != SECRET_BYTES:
            raise KeyFileError("The site key is damaged (wrong length). Ask for a new key file.")

    def subkey(self, purpose: str) -> bytes:
        """An independent key per purpose, so no two uses share raw key material."""
        return hmac.new(self.secret, b"nccid-desktop/v1/" + purpose.encode(), hashlib.sha256).digest()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": KEY_FILE_FORMAT,
            "version": KEY_FILE_VERSION,
            "site": self.site,
            "secret": base64.b64encode(self.secret).decode("ascii"),
            "controller_public_key": self.controller_public_key.decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Any) -> SiteKeys:
        """Build from the key file's (or the collection service's) JSON form."""
        if not isinstance(data, dict) or data.get("format") != KEY_FILE_FORMAT:
            raise KeyFileError("This is not an NCCID site key file.")
        if data.get("version") != KEY_FILE_VERSION:
            raise KeyFileError("This site key file was made by a newer version of NCCID Desktop.")
        try:
            secret = base64.b64decode(data["secret"], validate=True)
            public = str(data["controller_public_key"]).encode("ascii")
            _check_public_key(public)
            return cls(site=check_site_code(str(data["site"])), secret=secret,
                       controller_public_key=public)
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyFileError("The site key file is damaged. Ask for a new key file.") from exc


def _check_public_key(public_pem: bytes) -> None:
    """Raise ``ValueError`` unless ``public_pem`` is a public key cryptography can load.

    Why cryptography is imported here and below, not at the top: the module is imported by the
    settings and so by every command's parser, which must start without loading it.
    """
    from cryptography.hazmat.primitives import serialization

    serialization.load_pem_public_key(public_pem)


def generate_controller_keys() -> tuple[bytes, bytes]:
    """A new data controller key pair: (private PEM, unencrypted; public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private_pem, public_pem


def controller_public_key(private_key_file: Path) -> bytes:
    """The public key (PEM) of the controller's private key file; a plain error otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = Path(private_key_file)
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise KeyFileError(f"The key file {path.name} cannot be read.") from exc
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path.name} is not an unencrypted PEM private key.") from exc
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyFileError(f"{path.name} is not an RSA key.")
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_site_keys(site: str) -> tuple[SiteKeys, bytes]:
    """New site keys plus the matching controller private key (PEM, unencrypted)."""
    private_pem, public_pem = generate_controller_keys()
    keys = SiteKeys(check_site_code(site), secrets.token_bytes(SECRET_BYTES), public_pem)
    return keys, private_pem


def write_secret_file(path: Path, content: bytes) -> None:
    """Write a file only its owner can read, atomically (no half-written key files)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save_key_file(keys: SiteKeys, path: Path) -> None:
    write_secret_file(Path(path), json.dumps(keys.to_json(), indent=2).encode("utf-8") + b"\n")


def load_key_file(path: Path, site: str | None = None) -> SiteKeys:
    """Load a key file, checking that it belongs to ``site`` when one is given."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"The site key file {path} was not found.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"The site key file {path} cannot be read.") from exc
    keys = SiteKeys.from_json(data)
    if site is not None and check_site_code(site) != keys.site:
        raise KeyFileError(
            f"This key file belongs to site {keys.site}, not {check_site_code(site)}."
        )
    return keys
