"""The real collection service, embedded on loopback, with its demo site and user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nccid_collector.demo import DemoAccount, ensure_demo
from nccid_collector.server import EmbeddedService, start_embedded


@dataclass
class RunningCollector:
    service: EmbeddedService
    account: DemoAccount
    data_dir: Path

    @property
    def url(self) -> str:
        return self.service.url

    def raw_files(self, kind: str) -> list[Path]:
        """Every warehouse file of the demo site under ``data`` or ``images``, any date."""
        return sorted(self.data_dir.glob(f"raw-{self.account.site}/*/{kind}/*"))


@contextmanager
def running_collector(data_dir: Path, port: int = 0) -> Iterator[RunningCollector]:
    service = start_embedded(data_dir, port=port)
    try:
        yield RunningCollector(service, ensure_demo(service.service), data_dir)
    finally:
        service.stop()
