"""``nccid --help`` and ``--version`` load only the standard library and the project's light modules.

Why: the command line must answer at once (under 0.15 s; ``benchmarks/bench_startup.py``
measures it). Each command imports what it needs (pydicom, openpyxl, requests, cryptography,
the workflows, the transport) inside its handler, so a listing or a version never pays for them.
The check is deterministic: a child interpreter runs the real entry point and reports which
modules it loaded, compared with what a bare interpreter loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "nccid_desktop" / "cli"
#: Every command module: all of them are imported to build the parser.
COMMAND_MODULES = sorted(p.stem for p in CLI.glob("*.py") if not p.stem.startswith("_"))

#: Loaded by no listing: the packages whose modules do the work (or, for the service, serve it).
HEAVY_PROJECT = ("nccid_desktop.dicom", "nccid_desktop.transport", "nccid_desktop.workflows",
                 "nccid_desktop.gui", "nccid_collector.app", "nccid_collector.server",
                 "nccid_collector.service", "nccid_collector.db")
NAMED_HEAVY = ("pydicom", "openpyxl", "requests", "cryptography", "PySide6", "shiboken6",
               "fastapi", "uvicorn", "sqlalchemy")


def _imported_by(module: str) -> set[str]:
    """The modules that importing ``module`` alone loads, beyond a bare interpreter's."""
    code = (f"import json, sys; before = set(sys.modules); import {module}; "
            "print(json.dumps(sorted(set(sys.modules) - before)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def _loaded_modules(package: str, prog: str, args: list[str]) -> tuple[set[str], str]:
    """The modules ``package``'s entry point loads for ``args``, and what it printed."""
    code = (f"import json, sys\nsys.argv = [{prog!r}, *{args!r}]\n"
            f"from {package}.cli import main\n"
            "try:\n    code = main()\nexcept SystemExit as stop:\n    code = stop.code\n"
            "print('\\n@@' + json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n")
    bare = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps("
                           "sorted(sys.modules)))"], capture_output=True, text=True, check=True)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    printed, _, report = done.stdout.rpartition("\n@@")
    assert report, done.stderr
    answer = json.loads(report)
    assert answer["code"] in (0, None), done.stderr
    return set(answer["modules"]) - set(json.loads(bare.stdout)), printed


def _not_light(loaded: set[str]) -> list[str]:
    """Loaded modules that are neither the standard library nor the project's light modules.

    Any third-party library counts (even a small one: each is a cost every command would pay),
    and so does any module of the packages that do the work.
    """
    def heavy(name: str) -> bool:
        top = name.split(".")[0]
        if top in ("nccid_desktop", "nccid_collector"):
            return any(name == h or name.startswith(h + ".") for h in HEAVY_PROJECT)
        return not (top in sys.stdlib_module_names or top.startswith("_"))

    return sorted(name for name in loaded if heavy(name))


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_each_command_module_imports_nothing_heavy_at_the_top(name: str) -> None:
    """Which module breaks the listing tests below, when one does."""
    loaded = _imported_by(f"nccid_desktop.cli.{name}")
    assert [heavy for heavy in NAMED_HEAVY if heavy in loaded] == []
    assert _not_light(loaded) == []


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["validate", "--help"],
                                  ["upload", "sheet", "--help"], ["deid", "--help"]])
def test_nccid_listing_loads_nothing_heavy(args: list[str]) -> None:
    loaded, printed = _loaded_modules("nccid_desktop", "nccid", args)
    assert printed.strip()
    assert [name for name in NAMED_HEAVY if name in loaded] == []
    assert _not_light(loaded) == []


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
def test_nccid_collector_listing_loads_nothing_heavy(args: list[str]) -> None:
    loaded, printed = _loaded_modules("nccid_collector", "nccid-collector", args)
    assert printed.strip()
    assert [name for name in NAMED_HEAVY if name in loaded] == []
    assert _not_light(loaded) == []
