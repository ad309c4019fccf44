"""The real collection service on loopback for GUI tests, with the demo site and account."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nccid_collector import accounts
from nccid_collector.demo import DemoAccount, ensure_demo
from nccid_collector.server import EmbeddedService, start_embedded


@dataclass
class LiveService:
    embedded: EmbeddedService
    account: DemoAccount
    data_dir: Path

    @property
    def url(self) -> str:
        return self.embedded.url

    def add_user(self, username: str, password: str, *, must_change: bool = False,
                 roles: tuple[str, ...] = ("nurse", "imaging")) -> None:
        service = self.embedded.service
        accounts.add_user(service.db, service.settings, username, self.account.site, roles,
                          password, must_change=must_change)

    def raw_files(self, kind: str) -> list[Path]:
        return sorted(self.data_dir.glob(f"raw-{self.account.site}/*/{kind}/*"))


@contextmanager
def live_service(data_dir: Path, port: int = 0) -> Iterator[LiveService]:
    embedded = start_embedded(data_dir, port=port)
    try:
        yield LiveService(embedded, ensure_demo(embedded.service), data_dir)
    finally:
        embedded.stop()
