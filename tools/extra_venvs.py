"""The two extra virtual environments the tests use, built once and kept until pyproject changes.

- ``noqt``: everything the project and its tests need (the ``[service]`` and ``[dev]`` extras)
  **except Qt** (PySide6, shiboken6, pytest-qt). The core and workflow tests run in it, so a
  Qt import anywhere under them fails at once: the rule "the core is Qt-free" checked by running
  it, not only by reading imports (napari does the same).
- ``bare``: ``pip install -e .`` with no extras, exactly what a ward PC gets. The packaging
  tests check that it holds no FastAPI, uvicorn or SQLAlchemy and that the ``nccid`` commands
  work in it.

Why cached: building one takes 15-60 s (pip, PySide6's wheel). Each lives in ``.venvs/<kind>``
beside a key (a hash of ``pyproject.toml``, the Python version and the recipe) and is rebuilt
only when the key changes. The project is installed editable, so source changes need no
rebuild. A lock file keeps two builds of one kind from running at once.

    python tools/extra_venvs.py test [PYTEST ARGS]   # the core and workflow tests without Qt
    python tools/extra_venvs.py path noqt|bare       # build if needed, print the folder
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(os.environ.get("NCCID_EXTRA_VENVS", ROOT / ".venvs"))
#: Bumped when a recipe below changes, so existing environments are rebuilt.
RECIPE_VERSION = "1"
QT_DISTRIBUTIONS = frozenset({"pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6",
                              "pytest-qt"})
QT_MODULES = ("PySide6", "shiboken6", "pytestqt")
#: The test folders run without Qt (``workflows`` when that folder exists).
HEADLESS_TEST_FOLDERS = ("tests/core", "tests/sheets", "tests/dicom", "tests/config",
                         "tests/workflows")
#: Checks of the source text (ruff, mypy over the whole tree, the GUI included) rather than of
#: behaviour: they run once, in the main environment.
NOT_HEADLESS = ("tests/core/test_code_quality.py",)


def _distribution_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirements_without_qt(pyproject: dict) -> list[str]:
    """The project's requirements and its service and dev extras, less every Qt distribution."""
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    wanted = [*project.get("dependencies", []), *extras.get("service", []),
              *extras.get("dev", [])]
    return sorted({r for r in wanted if _distribution_name(r) not in QT_DISTRIBUTIONS})


def _key(kind: str) -> str:
    digest = hashlib.sha256()
    digest.update((ROOT / "pyproject.toml").read_bytes())
    digest.update(f"{kind} {RECIPE_VERSION} {sys.version}".encode())
    return digest.hexdigest()


@contextmanager
def _locked(kind: str) -> Iterator[None]:
    HOME.mkdir(parents=True, exist_ok=True)
    with (HOME / f".{kind}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pip(folder: Path, *args: str) -> None:
    subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", *args], check=True)


def _importable(folder: Path, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` the environment in ``folder`` can import."""
    code = ("import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] "
            "if importlib.util.find_spec(m) is not None))")
    return subprocess.run([str(folder / "bin" / "python"), "-c", code, *modules],
                          capture_output=True, text=True, check=True).stdout.split()


def _build(kind: str, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    if kind == "bare":
        _pip(folder, "-e", str(ROOT))
        return
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    _pip(folder, *requirements_without_qt(pyproject))
    _pip(folder, "--no-deps", "-e", str(ROOT))
    found = _importable(folder, QT_MODULES)
    if found:
        raise SystemExit(f"The environment without Qt has {', '.join(found)}: a requirement "
                         "pulls Qt in.")


def ensure(kind: str) -> Path:
    """The folder of the ``kind`` environment, built first if missing or out of date."""
    if kind not in ("noqt", "bare"):
        raise ValueError(f"unknown environment {kind!r}")
    folder = HOME / kind
    stamp = folder / ".key"
    key = _key(kind)
    with _locked(kind):
        if not (stamp.is_file() and stamp.read_text(encoding="utf-8") == key
                and (folder / "bin" / "python").exists()):
            print(f"Building the {kind} environment in {folder} (once per pyproject.toml)",
                  file=sys.stderr, flush=True)
            _build(kind, folder)
            stamp.write_text(key, encoding="utf-8")
    return folder


def run_headless_tests(pytest_args: list[str]) -> int:
    """The core and workflow tests, in the environment without Qt."""
    folder = ensure("noqt")
    folders = [f for f in HEADLESS_TEST_FOLDERS if (ROOT / f).is_dir()]
    ignores = [f"--ignore={path}" for path in NOT_HEADLESS]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    print(f"Running {' '.join(folders)} without Qt ({folder})", flush=True)
    return subprocess.run([str(folder / "bin" / "python"), "-m", "pytest", *folders, *ignores,
                           *pytest_args], cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["test"]:
        return run_headless_tests(argv[1:])
    if len(argv) == 2 and argv[0] == "path":
        print(ensure(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
