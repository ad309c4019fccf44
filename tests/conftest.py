"""Shared fixtures. Qt runs offscreen; every test gets its own NCCID_HOME."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from nccid_desktop.keys import SiteKeys
from nccid_desktop.logsafe import forget_sensitive

TEST_DATA = Path(__file__).parent / "data"

#: Valid NHS numbers (modulus-11) used across tests; 943 476 5919 is the NHS's own example.
VALID_NHS_NUMBERS = ("9434765919", "4010232137", "4505577104", "0123456789")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("nccid-home")
    monkeypatch.setenv("NCCID_HOME", str(home))
    yield home
    forget_sensitive()


@pytest.fixture(scope="session")
def controller_private_pem() -> bytes:
    return (TEST_DATA / "controller-test-key.pem").read_bytes()


@pytest.fixture(scope="session")
def site_keys() -> SiteKeys:
    """Fixed key material so that known-answer tests can pin pseudonyms and UIDs."""
    return SiteKeys(
        site="RSH",
        secret=bytes(range(32)),
        controller_public_key=(TEST_DATA / "controller-test-key.pub.pem").read_bytes(),
    )


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory, site_keys: SiteKeys) -> Path:
    from nccid_desktop.keys import save_key_file

    path = tmp_path_factory.mktemp("keys") / "rsh-keys.json"
    save_key_file(site_keys, path)
    return path
