"""The ``sites.secret`` column: issue, read and (at start) seal the site pseudonym keys.

Why at start: the service must not run unless its master key opens the keys already in the
database, and a database written before sealing existed must be sealed before the first
request is served. So :func:`prepare_master_key` loads (or, for a database with nothing
sealed yet, creates) the master key, checks it against the sealed rows, then seals any plain
row in one transaction. A second start finds nothing to seal and changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from sqlalchemy import Connection, Engine, select, update

from nccid_collector.db import sites
from nccid_collector.secrets_at_rest import (
    MasterKey,
    MasterKeyError,
    SealedSecretError,
    create_master_key,
    is_sealed,
    load_master_key,
    plain_secret,
    restore_advice,
)
from nccid_desktop.keys import SECRET_BYTES

log = logging.getLogger(__name__)


def new_sealed_secret(master_key: MasterKey, site: str) -> str:
    """A fresh random pseudonym key for ``site``, sealed for storage."""
    return master_key.seal(site, secrets.token_bytes(SECRET_BYTES))


def read_site_secret(conn: Connection, master_key: MasterKey, site: str) -> bytes | None:
    """The site's secret, or None when the site has none; never from a plain-text row."""
    stored = conn.execute(select(sites.c.secret).where(sites.c.code == site)).scalar()
    if stored is None:
        return None
    if not is_sealed(stored):
        raise SealedSecretError(f"The stored key of site {site} is not sealed yet. Restart the "
                                "collection service so that it seals it.")
    return master_key.open(site, stored)


def _check_sealed_rows(master_key: MasterKey, sealed: list[tuple[str, str]], path: Path) -> None:
    unopened = []
    for site, stored in sealed:
        try:
            master_key.open(site, stored)
        except SealedSecretError:
            unopened.append(site)
    if sealed and len(unopened) == len(sealed):
        raise MasterKeyError(
            f"The master key file {path} does not open the site keys stored in this database: "
            f"it is not the key they were sealed with. {restore_advice(path)}")
    if unopened:
        log.warning("The stored keys of sites %s cannot be opened with the master key (altered "
                    "or copied from another site); their users cannot fetch keys until the "
                    "rows are restored from a backup.", ", ".join(sorted(unopened)))


def seal_plain_rows(db: Engine, master_key: MasterKey) -> int:
    """Seal every row still in plain text, all in one transaction; how many were sealed."""
    sealed = 0
    with db.begin() as conn:
        rows = conn.execute(select(sites.c.code, sites.c.secret)).all()
        for site, stored in rows:
            if is_sealed(stored):
                continue
            done = conn.execute(
                update(sites).where(sites.c.code == site, sites.c.secret == stored)
                .values(secret=master_key.seal(site, plain_secret(site, stored)))).rowcount
            sealed += done
    if sealed:
        log.info("Sealed the stored keys of %d site(s) with the master key.", sealed)
    return sealed


def prepare_master_key(db: Engine, path: Path) -> MasterKey:
    """The master key that opens this database's site keys, with every plain row sealed.

    The key file is created only when it does not exist and nothing is sealed yet (a first
    start); once anything is sealed a missing or wrong key stops the service instead.
    """
    with db.connect() as conn:
        rows = conn.execute(select(sites.c.code, sites.c.secret)).all()
    sealed = [(site, stored) for site, stored in rows if is_sealed(stored)]
    first_start = not sealed and not Path(path).exists()
    master_key = create_master_key(path) if first_start else load_master_key(path)
    _check_sealed_rows(master_key, sealed, path)
    seal_plain_rows(db, master_key)
    return master_key
