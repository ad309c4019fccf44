"""What a running collection service needs to know: where, which database, warehouse and key, which
limits.

Why a value object with a clock: the security rules (90-day renewal, 15-minute lock-out,
expiring sessions, upload dates) all depend on the time, and tests must move the clock
instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nccid_collector.db import default_db_url
from nccid_collector.secrets_at_rest import MASTER_KEY_FILE_NAME


def system_clock() -> float:
    return time.time()


@dataclass
class ServiceSettings:
    data_dir: Path
    db_url: str | None = None
    #: where the warehouse objects live: a folder path or ``s3://bucket[/prefix]``
    #: (default: the data folder, as before storage was configurable)
    storage: str | None = None
    #: the key that seals site secrets; kept outside the database (default: in ``data_dir``)
    master_key_file: Path | None = None
    session_minutes: int = 8 * 60
    password_max_age_days: int = 90
    lockout_failures: int = 5
    lockout_minutes: int = 15
    #: serve the OpenAPI document and page (to signed-in users only): ``serve --api-docs``
    api_docs: bool = False
    clock: Callable[[], float] = field(default=system_clock)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    @property
    def master_key_path(self) -> Path:
        return Path(self.master_key_file) if self.master_key_file else (
            self.data_dir / MASTER_KEY_FILE_NAME)

    @property
    def storage_address(self) -> str:
        return str(self.storage) if self.storage else str(self.data_dir)

    @property
    def database_url(self) -> str:
        return self.db_url or default_db_url(self.data_dir)

    def now(self) -> int:
        return int(self.clock())

    def today(self) -> str:
        """The upload date (the service's UTC date) that names warehouse folders."""
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")
