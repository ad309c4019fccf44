"""Pseudonyms, NHS indexes, linkage tokens, remapped UIDs and date offsets.

Why keyed hashes: the same hospital number must give the same pseudonym on every workstation
of a site (so sheet rows and DICOM PatientIDs meet without any lookup table), while nobody
without the site secret can recompute or reverse it. Each use has its own sub-key
(see :meth:`SiteKeys.subkey`), so a leaked NHS index says nothing about a pseudonym.

Only the data controller can open a linkage token: it holds the NHS/CHI number encrypted with
a fresh AES-256-GCM data key, wrapped with RSA-OAEP under the controller's public key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nccid_desktop.errors import IdentifierError, KeyFileError
from nccid_desktop.identifiers import check_hospital_number, check_nhs_number
from nccid_desktop.keys import SiteKeys

LinkingIdentifier = Literal["hospital", "nhs"]
PSEUDONYM_PREFIX = "Covid"
PSEUDONYM_DIGITS = 16
#: ASCII only: ``\d`` would also match the digits of other scripts, which would make a
#: warehouse file name no loader expects.
PSEUDONYM_PATTERN = re.compile(rf"{PSEUDONYM_PREFIX}[0-9]{{{PSEUDONYM_DIGITS}}}", re.ASCII)
MAX_DATE_SHIFT_DAYS = 1095
_TOKEN_VERSION = 1
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(),
                     label=b"nccid-linkage-token")


def _mac(keys: SiteKeys, purpose: str, *parts: str) -> bytes:
    message = "\x00".join(parts).encode("utf-8")
    return hmac.new(keys.subkey(purpose), message, hashlib.sha256).digest()


def pseudonym_from_linking_value(keys: SiteKeys, kind: LinkingIdentifier, value: str) -> str:
    """Pseudonym of an already normalised linking value (hospital number or NHS number)."""
    digest = _mac(keys, "pseudonym", kind, keys.site, value)
    number = int.from_bytes(digest[:8], "big") % 10**PSEUDONYM_DIGITS
    return f"{PSEUDONYM_PREFIX}{number:0{PSEUDONYM_DIGITS}d}"


def pseudonym_for(
    keys: SiteKeys,
    *,
    hospital_number: object = None,
    nhs_number: object = None,
    linking: LinkingIdentifier = "hospital",
) -> str:
    """The patient's pseudonym from the site's linking identifier.

    ``linking="hospital"`` (the default) keys on the Radiology hospital number, which is what
    PACS writes in PatientID; sites whose PACS keys on the NHS number choose ``"nhs"``.
    """
    if linking == "nhs":
        nhs = check_nhs_number(nhs_number)
        if not nhs.ok or nhs.value is None:
            raise IdentifierError(nhs.message)
        return pseudonym_from_linking_value(keys, "nhs", nhs.value)
    hospital = check_hospital_number(hospital_number)
    if hospital.value is None:
        raise IdentifierError(hospital.message)
    return pseudonym_from_linking_value(keys, "hospital", hospital.value)


def is_pseudonym(value: str) -> bool:
    return bool(PSEUDONYM_PATTERN.fullmatch(value))


def nhs_index(keys: SiteKeys, nhs_number: object) -> str:
    """Keyed hash of an NHS/CHI number, for the NHS/CHI checker (hex, 64 characters)."""
    nhs = check_nhs_number(nhs_number)
    if not nhs.ok or nhs.value is None:
        raise IdentifierError(nhs.message)
    return _mac(keys, "nhs-index", nhs.value).hex()


def linkage_token(keys: SiteKeys, nhs_number: object, *, _data_key: bytes | None = None,
                  _nonce: bytes | None = None) -> str:
    """Encrypt the NHS/CHI number so that only the data controller can read it.

    Layout (then URL-safe base64): version byte, 2-byte length of the wrapped key, the wrapped
    key, 12-byte nonce, AES-GCM ciphertext with tag. The site code is bound as associated data.
    """
    nhs = check_nhs_number(nhs_number)
    if not nhs.ok or nhs.value is None:
        raise IdentifierError(nhs.message)
    public_key = serialization.load_pem_public_key(keys.controller_public_key)
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise KeyFileError("The data controller's key is not an RSA key.")
    data_key = _data_key or AESGCM.generate_key(bit_length=256)
    nonce = _nonce or os.urandom(12)
    ciphertext = AESGCM(data_key).encrypt(nonce, nhs.value.encode("ascii"), keys.site.encode())
    wrapped = public_key.encrypt(data_key, _OAEP)
    blob = struct.pack(">BH", _TOKEN_VERSION, len(wrapped)) + wrapped + nonce + ciphertext
    return base64.urlsafe_b64encode(blob).decode("ascii")


def open_linkage_token(private_key_pem: bytes, token: str, site: str) -> str:
    """The data controller's side: recover the NHS/CHI number from a linkage token."""
    try:
        blob = base64.urlsafe_b64decode(token.encode("ascii"))
        version, wrapped_len = struct.unpack(">BH", blob[:3])
        if version != _TOKEN_VERSION:
            raise ValueError("unknown token version")
        wrapped = blob[3:3 + wrapped_len]
        nonce = blob[3 + wrapped_len:15 + wrapped_len]
        ciphertext = blob[15 + wrapped_len:]
        private_key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA key")
        data_key = private_key.decrypt(wrapped, _OAEP)
        return AESGCM(data_key).decrypt(nonce, ciphertext, site.encode()).decode("ascii")
    except (ValueError, struct.error, InvalidTag, UnicodeError) as exc:
        raise KeyFileError("The linkage token cannot be opened with this key.") from exc


def remap_uid(keys: SiteKeys, source_uid: str) -> str:
    """A ``2.25.`` UID derived from the source UID: the same on every run and workstation."""
    digest = _mac(keys, "uid", source_uid.strip().rstrip("\x00"))
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def date_shift_days(keys: SiteKeys, pseudonym: str) -> int:
    """Per-patient shift (1 to 1095 days back) for dates that NCCID does not keep real."""
    digest = _mac(keys, "date-shift", pseudonym)
    return -(1 + int.from_bytes(digest[:4], "big") % MAX_DATE_SHIFT_DAYS)
