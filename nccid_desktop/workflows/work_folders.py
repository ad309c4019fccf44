"""Where a send keeps de-identified copies before they are staged, and refused files.

Why a folder per run: the app and the command line may send at the same time from one data
folder; each run de-identifies into a folder of its own, removed when the run ends. A run
that was killed leaves its folder behind (de-identified copies only, never a source file);
such leftovers are removed by a later run once they are a day old.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

#: Folders of de-identified copies left by a run that was killed are removed after this long.
STALE_RUN_SECONDS = 24 * 3600


@dataclass(frozen=True)
class WorkFolders:
    """Where de-identified copies wait to be staged, and where refused files are kept."""

    work: Path
    quarantine: Path

    @classmethod
    def under(cls, data_dir: Path) -> WorkFolders:
        return cls(Path(data_dir) / "images-work", Path(data_dir) / "quarantine")

    def run_folder(self) -> Path:
        """A new folder for one run (old leftovers removed first)."""
        self.work.mkdir(parents=True, exist_ok=True)
        for old in self.work.iterdir():
            try:
                if old.is_dir() and time.time() - old.stat().st_mtime > STALE_RUN_SECONDS:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                continue
        run_dir = self.work / uuid.uuid4().hex
        run_dir.mkdir()
        return run_dir
