"""Replicas of the collection service as real processes (``nccid-collector serve``).

Each replica is its own process with its own data folder (logs, upload spool), all sharing one
database, one warehouse address and one master key file, the way docs/deployment.md deploys
them behind a load balancer. They bind port 0 and report their address in a ready file.
Used by the replica tests and by ``benchmarks/bench_service.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 90
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def collector_command() -> Path:
    return Path(sys.executable).with_name("nccid-collector")


@dataclass
class Replica:
    name: str
    process: subprocess.Popen
    url: str
    data_dir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when a machine or container dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def cpu_seconds(self) -> float:
        """User + system CPU seconds so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def peak_memory_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def output(self) -> str:
        path = self.data_dir / "replica.out"
        return path.read_text(errors="replace") if path.exists() else ""


def launch_replica(name: str, root: Path, db_url: str, storage: str, master_key_file: Path,
                   env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path, Path]:
    data_dir = root / name
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "ready.json"
    ready.unlink(missing_ok=True)
    command = [str(collector_command()), "serve", "--data", str(data_dir), "--db", db_url,
               "--storage", storage, "--master-key-file", str(master_key_file),
               "--port", "0", "--ready-file", str(ready)]
    with open(data_dir / "replica.out", "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                   start_new_session=True)
    return process, data_dir, ready


def wait_ready(name: str, process: subprocess.Popen, data_dir: Path, ready: Path) -> Replica:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            out = (data_dir / "replica.out").read_text(errors="replace")
            raise RuntimeError(f"replica {name} did not start: {out[-3000:]}")
        time.sleep(0.02)
    return Replica(name, process, json.loads(ready.read_text())["url"], data_dir)


def start_replicas(names: list[str], root: Path, db_url: str, storage: str,
                   master_key_file: Path, env: dict[str, str] | None = None) -> list[Replica]:
    """Start every replica at once (they race through start-up), then wait for all."""
    launched = [(name, *launch_replica(name, root, db_url, storage, master_key_file, env))
                for name in names]
    started: list[Replica] = []
    try:
        for name, process, data_dir, ready in launched:
            started.append(wait_ready(name, process, data_dir, ready))
    except BaseException:
        for _name, process, _data, _ready in launched:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        raise
    return started
