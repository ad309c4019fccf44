"""The package boundaries hold, checked by tooling: import-linter's contracts and no import loops.

The contracts live in pyproject.toml (``[tool.importlinter]``). Each one is also shown to bite:
a copy of the packages with one forbidden import planted must fail ``lint-imports``, naming the
contract it breaks. Loops between two modules are found in the same import graph.
"""

from __future__ import annotations

import json
import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("nccid_desktop", "nccid_collector")
FRONT_ENDS = {"gui", "cli", "__main__"}
CYCLE_FINDER = Path(__file__).with_name("import_graph.py")


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def _run(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("lint-imports")
    return _run([str(script), "--no-cache"], root)


def _cycles(root: Path) -> list[list[str]]:
    done = _run([sys.executable, str(CYCLE_FINDER), *PACKAGES], root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _copy_with(tmp_path: Path, module_file: str, line: str) -> Path:
    """The packages and pyproject.toml copied to ``tmp_path``, ``line`` appended to one file."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module_file
    assert target.is_file(), module_file
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return tmp_path


def test_every_contract_is_kept() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(_contracts())} kept, 0 broken" in done.stdout


def test_every_core_module_is_bound_by_the_core_contract() -> None:
    """A new module in nccid_desktop is core unless it is a front end, so it must be listed."""
    import nccid_desktop

    core = {f"nccid_desktop.{info.name}" for info in pkgutil.iter_modules(nccid_desktop.__path__)
            if info.name not in FRONT_ENDS}
    assert set(_contracts()["core-qt-free"]["source_modules"]) == core


@pytest.mark.parametrize(("module_file", "planted", "contracts"), [
    ("nccid_desktop/netprobe.py", "import nccid_desktop.gui.app", "core-qt-free desktop-layers"),
    ("nccid_desktop/dicom/scan/scanner.py", "from PySide6 import QtCore", "core-qt-free"),
    ("nccid_desktop/transport/http.py", "import shiboken6", "core-qt-free"),
    ("nccid_desktop/workflows/__init__.py", "from nccid_desktop.cli import main",
     "core-qt-free desktop-layers"),
    ("nccid_desktop/sheets/validator.py", "import nccid_collector.storage",
     "desktop-without-service"),
    ("nccid_desktop/gui/app.py", "import fastapi", "desktop-without-service"),
    ("nccid_collector/stow.py", "import nccid_desktop.workflows", "service-uses-core-rules-only"),
    ("nccid_desktop/cli/keys.py", "import nccid_desktop.gui.workers", "desktop-layers"),
    ("nccid_desktop/gui/app.py", "import nccid_desktop.cli.keys", "desktop-layers"),
    ("nccid_desktop/pseudonym.py", "import nccid_desktop.sheets.values", "desktop-layers"),
    ("nccid_desktop/sheets/values.py", "import nccid_desktop.dicom.scan.model", "desktop-layers"),
    ("nccid_desktop/dicom/codec/raw_walk.py", "import nccid_desktop.dicom.deid.profile",
     "dicom-layers"),
    ("nccid_collector/db.py", "import nccid_collector.service", "service-layers"),
])
def test_a_planted_forbidden_import_breaks_its_contract(
        tmp_path: Path, module_file: str, planted: str, contracts: str) -> None:
    done = _lint_imports(_copy_with(tmp_path, module_file, planted))
    assert done.returncode == 1, done.stdout + done.stderr
    report = " ".join(done.stdout.split())
    broken = {key for key, contract in _contracts().items() if f"{contract['name']} BROKEN" in report}
    assert broken == set(contracts.split())


def test_no_two_modules_import_each_other() -> None:
    assert _cycles(ROOT) == []


def test_a_planted_two_module_loop_is_found(tmp_path: Path) -> None:
    root = _copy_with(tmp_path, "nccid_desktop/identifiers.py",
                      "def _late():\n    import nccid_desktop.pseudonym  # noqa")
    assert _cycles(root) == [["nccid_desktop.identifiers", "nccid_desktop.pseudonym"]]
