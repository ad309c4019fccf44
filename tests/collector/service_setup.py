"""Shared test constants and the movable clock (importable as tests.collector.service_setup)."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nccid_collector import accounts
from nccid_collector.passwords import hash_password
from nccid_desktop.keys import SiteKeys

if TYPE_CHECKING:
    from nccid_collector import CollectorService

TEST_DATA = Path(__file__).resolve().parents[1] / "data"
PASSWORD = "Correct-Horse-42!"
#: username -> (site, roles)
USERS = {
    "nurse1": ("RSH", ("nurse",)),
    "imager1": ("RSH", ("imaging",)),
    "admin1": ("RSH", ("admin",)),
    "other1": ("OTH", ("nurse", "imaging")),
}


class Clock:
    """A clock the tests move instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, *, days: float = 0, minutes: float = 0, seconds: float = 0) -> None:
        self.now += days * 86400 + minutes * 60 + seconds


@functools.cache
def cached_hash(password: str) -> str:
    """Real scrypt, computed once per password for the whole session."""
    return hash_password(password)


def populate(service: CollectorService) -> None:
    """The controller key, sites RSH and OTH, and the users of ``USERS`` (password ``PASSWORD``)."""
    accounts.set_controller_key(service.db, (TEST_DATA / "controller-test-key.pub.pem").read_bytes())
    for code, name in (("RSH", "Royal Surrey"), ("OTH", "Other Trust")):
        accounts.add_site(service.db, service.settings, code, name, master_key=service.master_key)
    for username, (site, roles) in USERS.items():
        accounts.add_user(service.db, service.settings, username, site, roles, PASSWORD)


def keys_of(service: CollectorService, site: str) -> SiteKeys:
    """The site's keys as the service issues them (opened with the service's master key)."""
    return accounts.site_keys(service.db, site, master_key=service.master_key)
