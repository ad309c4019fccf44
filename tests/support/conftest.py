"""Support fixtures: the real collection service behind a TLS front with its own CA."""

from __future__ import annotations

import pytest

from tests.gui.gui_service import live_service
from tests.support.network import issue_server_pair, make_authority, tls_front

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
                   "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch, tmp_path):
    """Tests decide the proxy; the machine's own policy file and proxy variables stay out."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "no-policy.toml"))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with live_service(tmp_path_factory.mktemp("collector")) as running:
        yield running


@pytest.fixture(scope="module")
def root_ca():
    return make_authority("NCCID Test Root CA")


@pytest.fixture(scope="module")
def ca_bundle(root_ca, tmp_path_factory):
    return root_ca.write_pem(tmp_path_factory.mktemp("ca") / "trust-root.pem")


@pytest.fixture(scope="module")
def https_service(service, root_ca, tmp_path_factory):
    """The real service at https://localhost:PORT, its certificate issued by ``root_ca``."""
    cert, key = issue_server_pair(root_ca, tmp_path_factory.mktemp("tls"))
    with tls_front(service.url, cert, key) as front:
        yield f"https://localhost:{front.port}"
