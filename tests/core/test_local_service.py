"""Demo mode's collection service: a real child process found through its ready file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import requests

from nccid_desktop.errors import NotInstalledError
from nccid_desktop.local_service import service_installed, start_demo


def test_start_demo_runs_the_service_as_a_child_process_and_stops_it(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)
    try:
        assert demo.url.startswith("http://127.0.0.1:") and not demo.url.endswith(":0")
        signed = requests.post(f"{demo.url}/api/v1/session", timeout=30,
                               json={"username": demo.username, "password": demo.password})
        assert signed.status_code == 200
        assert any(demo.samples.glob("*.xlsx"))
    finally:
        demo.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{demo.url}/api/v1/health", timeout=5)


def test_without_the_service_installed_demo_mode_says_how_to_get_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "nccid_collector" else real(name, *a))
    assert not service_installed()
    with pytest.raises(NotInstalledError, match=r"pip install 'nccid-desktop\[service\]'"):
        start_demo(tmp_path)
    assert not (tmp_path / "collector").exists()
