"""The PyInstaller bundle, built from the working tree, works on its own (no venv, no PYTHONPATH)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import build_bundle
import pytest

pytestmark = pytest.mark.slow


def _run(bundle: Path, name: str, *args: str, home: Path, timeout: float = 120):
    return subprocess.run([str(build_bundle.executable(bundle, name)), *args],
                          env=build_bundle.clean_environment(home), capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_self_test_passes_off_screen(bundle):
    result = build_bundle.run_self_test(bundle)
    assert result.passed, result.line + result.stderr[-2000:]
    assert "settings, qt-plugins, window, sheet, dicom, certificates" in result.line


def test_self_test_passes_on_a_real_x_display(bundle):
    assert shutil.which("xvfb-run"), "xvfb-run is missing: run make setup"
    result = build_bundle.run_self_test(bundle, xvfb=True)
    assert result.passed, result.line + result.stderr[-2000:]


def test_console_command_finds_its_commands_and_deidentifies_with_workers(bundle, tmp_path):
    keys = tmp_path / "site-keys.json"
    made = _run(bundle, "nccid", "keys", "generate", "--site", "RSH", "-o", str(keys),
                home=tmp_path)
    assert made.returncode == 0, made.stderr
    samples = build_bundle.ROOT / "resources" / "samples"
    done = _run(bundle, "nccid", "deid", "--out", str(tmp_path / "staged"), "--key-file",
                str(keys), "--site", "RSH", "--workers", "2", "--format", "json", str(samples),
                home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "staged").glob("*.dcm"))) == 2
    assert "SELFTEST" not in done.stdout.upper()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_bundled_collection_service_answers(bundle, tmp_path):
    port = _free_port()
    service = subprocess.Popen(
        [str(build_bundle.executable(bundle, "nccid")), "collector", "serve", "--data",
         str(tmp_path / "service"), "--port", str(port)],
        env=build_bundle.clean_environment(tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline and service.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health",
                                            timeout=2) as response:
                    answer = json.load(response)
            except OSError:
                time.sleep(0.2)
    finally:
        service.terminate()
        _, errors = service.communicate(timeout=30)
    assert answer is not None and answer["status"] == "ok", errors.decode(errors="replace")


def test_notices_list_every_bundled_distribution_and_keep_qt_replaceable(bundle):
    notices = (bundle / "_internal" / "THIRD-PARTY-NOTICES.txt").read_text(encoding="utf-8")
    for name in ("PySide6_Essentials", "shiboken6", "pydicom", "openpyxl", "cryptography",
                 "requests", "truststore", "fastapi", "uvicorn", "SQLAlchemy", "Python"):
        assert f"\n{name} " in notices, name
    assert "you may replace them" in notices
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in notices
    assert "pytest" not in notices.lower()
    qt_libraries = list((bundle / "_internal" / "PySide6").rglob("*Qt6Core*"))
    assert qt_libraries, "Qt must stay a separate, replaceable library file"


def test_bundle_leaves_out_test_tools_and_stays_under_the_size_aim(bundle):
    internal = bundle / "_internal"
    for unwanted in ("pytest", "_pytest", "hypothesis", "schemathesis", "mypy", "numpy"):
        assert not (internal / unwanted).exists(), unwanted
    assert build_bundle.folder_size(bundle) < build_bundle.SIZE_AIM_MB * 1e6
    for needed in ("ui/main_window.ui", "ui/theme.qss", "resources/icons/app.svg",
                   "policy.example.toml",
                   "resources/samples/sample-cr.dcm",
                   "resources/standards/ps3.15-annex-e-table-e1-1.json"):
        assert (internal / needed).is_file(), needed
