"""The PyInstaller bundle, built from the working tree, works on its own (no venv, no PYTHONPATH)."""

from __future__ import annotations

import shutil
import subprocess
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


def _bundled_modules(bundle: Path, name: str) -> set[str]:
    """The Python modules inside one executable's archive (PyInstaller's own reader)."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(build_bundle.executable(bundle, name)))
    modules = set(archive.toc)
    for entry in archive.toc:
        if entry.endswith(".pyz"):
            modules |= set(archive.open_embedded_archive(entry).toc)
    return modules


@pytest.mark.parametrize("name", ["nccid", "nccid-desktop"])
def test_bundle_holds_no_collection_service_code(bundle, name):
    modules = _bundled_modules(bundle, name)
    assert "nccid_desktop.cli" in modules, sorted(modules)[:20]
    service = sorted(m for m in modules
                     if m.split(".")[0] in {"nccid_collector", "fastapi", "uvicorn", "sqlalchemy",
                                            "starlette"})
    assert service == []
    internal = bundle / "_internal"
    assert not any((internal / folder).exists()
                   for folder in ("nccid_collector", "fastapi", "uvicorn", "sqlalchemy"))


def test_bundled_collector_alias_says_the_service_is_not_installed(bundle, tmp_path):
    done = _run(bundle, "nccid", "collector", "serve", "--data", str(tmp_path / "service"),
                home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "collection service is not installed" in done.stderr
    assert "Traceback" not in done.stderr


def test_notices_list_every_bundled_distribution_and_keep_qt_replaceable(bundle):
    notices = (bundle / "_internal" / "THIRD-PARTY-NOTICES.txt").read_text(encoding="utf-8")
    for name in ("PySide6_Essentials", "shiboken6", "pydicom", "openpyxl", "cryptography",
                 "requests", "truststore", "Python"):
        assert f"\n{name} " in notices, name
    for name in ("fastapi", "uvicorn", "SQLAlchemy", "starlette"):
        assert f"\n{name} " not in notices, name
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
