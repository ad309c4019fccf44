"""The collection service on this computer, as a child process: demo mode and ``nccid collector``.

Why a child process and never an import: the desktop package does not depend on the service
(FastAPI, uvicorn, SQLAlchemy are the ``[service]`` extra, absent from ward PCs and from the
bundle), and an import-linter contract forbids ``nccid_desktop`` importing ``nccid_collector``.
So the app asks Python whether the service is installed (``find_spec`` imports nothing) and,
if it is, runs ``python -m nccid_collector serve --demo --port 0 --ready-file F``; the service
writes its address and the demo account to ``F`` once it listens.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nccid_desktop.errors import ConfigError, NotInstalledError
from nccid_desktop.logsafe import scrub

log = logging.getLogger(__name__)

SERVICE_PACKAGE = "nccid_collector"
SERVICE_LIBRARIES = ("fastapi", "uvicorn", "sqlalchemy")
NOT_INSTALLED = ("The collection service is not installed on this computer. Install it with "
                 "pip install 'nccid-desktop[service]'.")
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15


def service_installed() -> bool:
    """Whether the service package and its libraries can run here (imports none of them)."""
    return all(importlib.util.find_spec(name) is not None
               for name in (SERVICE_PACKAGE, *SERVICE_LIBRARIES))


def service_command(*arguments: str) -> list[str]:
    """The command line that runs ``nccid-collector`` with ``arguments`` in this Python."""
    return [sys.executable, "-m", SERVICE_PACKAGE, *arguments]


@dataclass
class DemoSetup:
    url: str
    username: str
    password: str
    samples: Path
    stop: Callable[[], None]


def start_demo(home: Path) -> DemoSetup:
    """The demo service (a child process) with its demo account, and fresh sample data."""
    from nccid_desktop.demo_data import generate_demo_data

    if not service_installed():
        raise NotInstalledError(f"Demo mode runs a collection service on this computer. {NOT_INSTALLED}")
    data = home / "collector"
    data.mkdir(parents=True, exist_ok=True)
    ready = data / "ready.json"
    ready.unlink(missing_ok=True)
    errors = data / "service-start.log"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            service_command("serve", "--demo", "--data", str(data), "--port", "0",
                            "--ready-file", str(ready)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        answer = _wait_until_ready(process, ready, errors)
        samples = generate_demo_data(home / "sample data").folder
    except BaseException:
        _stop(process)
        raise
    log.info("demo collection service listening on %s", answer["url"])
    return DemoSetup(answer["url"], answer["username"], answer["password"], samples,
                     lambda: _stop(process))


def _wait_until_ready(process: subprocess.Popen, ready: Path, errors: Path) -> dict[str, str]:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if ready.exists():
            with contextlib.suppress(ValueError, OSError):
                answer = json.loads(ready.read_text(encoding="utf-8"))
                if {"url", "username", "password"} <= answer.keys():
                    return answer
        if process.poll() is not None:
            raise ConfigError("The demo collection service stopped while starting: "
                              f"{_last_line(errors)}")
        time.sleep(0.05)
    raise ConfigError(f"The demo collection service did not start within "
                      f"{START_TIMEOUT_SECONDS} seconds.")


def _last_line(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines:
            return scrub(lines[-1])
    return "no reason given."


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM lets the service finish in-flight requests; kill only if it does not stop."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
