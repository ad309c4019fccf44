"""Linkage for the data controller: open the stored linkage tokens with the controller's key.

Why here and why so: records must be linkable to other COVID-19 datasets (ISARIC, ICNARC) by
the data controller alone. Each record carries a token only the controller's private key
opens (:func:`nccid_desktop.pseudonym.open_linkage_token`); the key is read from a file for
one export and never stored by the service. Key rotation: tokens made before a rotation open
with the old private key, so an export may be given several keys and tries each. Every export
is audited (counts only); the CSV written holds NHS/CHI numbers and is the controller's to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from nccid_collector import audit
from nccid_collector.db import clinical_records
from nccid_collector.settings import ServiceSettings
from nccid_desktop.errors import KeyFileError
from nccid_desktop.keys import check_site_code, write_secret_file
from nccid_desktop.pseudonym import open_linkage_token

COLUMNS = ("pseudonym", "nhs_or_chi_number", "site")


@dataclass(frozen=True)
class LinkageExport:
    rows: int
    unopened: int


def load_private_keys(paths: list[Path]) -> list[bytes]:
    """The controller's private keys (PEM), checked; a plain error names the bad file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys = []
    for path in paths:
        try:
            pem = Path(path).read_bytes()
            key = serialization.load_pem_private_key(pem, password=None)
        except OSError as exc:
            raise KeyFileError(f"The key file {Path(path).name} cannot be read.") from exc
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{Path(path).name} is not an unencrypted PEM private key.") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyFileError(f"{Path(path).name} is not the data controller's RSA key.")
        keys.append(pem)
    return keys


def export_linkage(db: Engine, settings: ServiceSettings, *, site: str, private_keys: list[bytes],
                   output: Path, username: str) -> LinkageExport:
    """Write ``pseudonym,nhs_or_chi_number,site`` for the site's records with a token.

    A token none of the keys opens is counted; when no token opens at all, the keys are
    wrong: a plain error, and no file is written.
    """
    site = check_site_code(site)
    with db.connect() as conn:
        rows = conn.execute(select(clinical_records.c.pseudonym, clinical_records.c.linkage_token)
                            .where(clinical_records.c.site == site,
                                   clinical_records.c.linkage_token.is_not(None))
                            .order_by(clinical_records.c.pseudonym, clinical_records.c.id.desc())
                            ).all()
    opened: dict[str, str] = {}
    unopened: set[str] = set()
    for pseudonym, token in rows:
        if pseudonym in opened:
            continue
        number = _open(private_keys, token, site)
        if number is None:
            unopened.add(pseudonym)
        else:
            opened[pseudonym] = number
            unopened.discard(pseudonym)
    if rows and not opened:
        audit.record(db, settings.now(), username, site, "linkage_export", "wrong_key", 0)
        raise KeyFileError("None of the site's linkage tokens opens with this key: it is not "
                           "the data controller's key for these records. Nothing was written.")
    lines = [",".join(COLUMNS)] + [f"{p},{n},{site}" for p, n in sorted(opened.items())]
    write_secret_file(output, ("\n".join(lines) + "\n").encode("ascii"))
    audit.record(db, settings.now(), username, site, "linkage_export",
                 "ok" if not unopened else "partial", len(opened))
    return LinkageExport(len(opened), len(unopened))


def _open(private_keys: list[bytes], token: str, site: str) -> str | None:
    for key in private_keys:
        try:
            return open_linkage_token(key, token, site)
        except KeyFileError:
            continue
    return None
