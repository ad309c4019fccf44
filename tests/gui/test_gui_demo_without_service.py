"""Demo mode where the collection service is not installed: a plain message, no traceback."""

from __future__ import annotations

import importlib.util

import pytest

from nccid_desktop.gui import controller


def test_demo_without_the_service_says_how_to_install_it(qapp, monkeypatch: pytest.MonkeyPatch,
                                                         _isolated_home) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "nccid_collector" else real(name, *a))
    shown: list[str] = []
    monkeypatch.setattr(controller.QMessageBox, "critical",
                        lambda _parent, _title, text: shown.append(text))
    assert controller.run_app(demo=True) == 1
    assert len(shown) == 1 and "pip install 'nccid-desktop[service]'" in shown[0]
    assert not (_isolated_home / "data" / "demo" / "collector").exists()
