"""One PyInstaller build per test session, shared by the bundle and the MSI tests.

Why shared: building takes about a minute on two cores, and both test files need the same
folder. The build runs from the working tree into a temporary folder, with the function
tools/build_bundle.py uses in CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_bundle  # noqa: E402


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("bundle-build")
    return build_bundle.build(build_dir / "dist", build_dir / "work")
