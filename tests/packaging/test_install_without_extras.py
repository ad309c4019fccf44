"""``pip install -e .`` with no extras: what a ward PC gets, without the collection service.

The environment is built by ``tools/extra_venvs.py`` (once per pyproject.toml) with exactly that
command. In it: no FastAPI, uvicorn or SQLAlchemy; and the commands a site runs work, the upload
against a real collection service started from the test's own environment, where it is
installed. The service's own commands say how to install it, without a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from nccid_desktop.sheets.definitions import MAIN, STATUS
from tests.dicom.builders import ct_slice, write
from tests.sheets.builders import main_row, save_workbook, status_row
from tests.transport.collector_fixture import RunningCollector, running_collector

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import extra_venvs  # noqa: E402

SERVICE_LIBRARIES = ("fastapi", "uvicorn", "sqlalchemy", "starlette")


@pytest.fixture(scope="module")
def bare_bin() -> Path:
    return extra_venvs.ensure("bare") / "bin"


@pytest.fixture
def collector(tmp_path: Path):
    with running_collector(tmp_path / "service") as running:
        yield running


def _run(bare_bin: Path, command: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(bare_bin / command), *args], capture_output=True, text=True,
                          env={**environment, **env}, timeout=300, check=False)


def _importable(bare_bin: Path, *modules: str) -> list[str]:
    code = ("import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
            "if importlib.util.find_spec(m) is not None))")
    return _run(bare_bin, "python", "-c", code, *modules).stdout.split()


def test_no_service_library_is_installed(bare_bin: Path) -> None:
    assert _importable(bare_bin, *SERVICE_LIBRARIES) == []
    assert _importable(bare_bin, "nccid_desktop", "pydicom", "openpyxl", "requests",
                       "cryptography", "PySide6") == ["nccid_desktop", "pydicom", "openpyxl",
                                                      "requests", "cryptography", "PySide6"]


def test_nccid_help_lists_every_command(bare_bin: Path) -> None:
    done = _run(bare_bin, "nccid", "--help")
    assert done.returncode == 0, done.stderr
    for command in ("validate", "deid", "upload", "resume", "scan", "doctor", "collector"):
        assert command in done.stdout


def test_validate_runs(bare_bin: Path, tmp_path: Path) -> None:
    good = save_workbook(tmp_path / "good.xlsx", MAIN, [main_row(seed) for seed in (1, 2)])
    bad = save_workbook(tmp_path / "bad.xlsx", MAIN, [main_row(3, Age="old")])
    done = _run(bare_bin, "nccid", "validate", str(good))
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run(bare_bin, "nccid", "validate", str(bad), "--format", "json")
    assert done.returncode == 1 and '"error_count": 1' in done.stdout, done.stdout + done.stderr


def test_deid_runs(bare_bin: Path, tmp_path: Path, key_file: Path) -> None:
    for instance in (1, 2, 3):
        write(ct_slice(instance=instance), tmp_path / "export" / f"IM{instance}")
    done = _run(bare_bin, "nccid", "deid", str(tmp_path / "export"), "--out",
                str(tmp_path / "staging"), "--key-file", str(key_file), "--site", "RSH")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 files de-identified" in done.stdout
    assert len(list((tmp_path / "staging").rglob("*.dcm"))) == 3


def test_upload_sheet_reaches_a_real_service(bare_bin: Path, tmp_path: Path,
                                             collector: RunningCollector) -> None:
    sheet = save_workbook(tmp_path / "status.xlsx", STATUS,
                          [status_row(seed, SwabDate=datetime(2020, 11, 1)) for seed in (1, 2, 3)])
    done = _run(bare_bin, "nccid", "upload", "sheet", str(sheet), "--server", collector.url,
                "--user", collector.account.username, NCCID_PASSWORD=collector.account.password)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 stored" in done.stdout
    assert len(collector.raw_files("data")) == 3


def test_the_service_commands_say_how_to_install_it(bare_bin: Path, tmp_path: Path) -> None:
    listed = _run(bare_bin, "nccid-collector", "--help")
    assert listed.returncode == 0 and "serve" in listed.stdout, listed.stderr
    for command, args in (("nccid-collector", ["serve", "--data", str(tmp_path / "w")]),
                          ("nccid", ["collector", "serve", "--data", str(tmp_path / "w")])):
        done = _run(bare_bin, command, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "pip install 'nccid-desktop[service]'" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "w").exists()
