"""The doctor against real loopback parts: trusted, untrusted and intercepted TLS, a CONNECT
proxy (explicit, from the system, refusing, down), a closed port and an unresolvable name."""

from __future__ import annotations

import pytest

from nccid_desktop import config
from nccid_desktop.doctor import STEPS, diagnose
from nccid_desktop.errors import CancelledError
from nccid_desktop.tasks import CancelToken
from tests.support.network import (
    closed_port,
    http_proxy,
    issue_server_pair,
    make_authority,
    tls_front,
)


def _run(server_url: str, *, password: str | None = None, username: str | None = None,
         environ: dict[str, str] | None = None, **options: str | None):
    effective = config.resolve({"server_url": server_url, "username": username, **options},
                               environ or {})
    return diagnose(effective, password=password, timeout=5.0)


def _statuses(report) -> dict[str, str]:
    return {check.step: check.status for check in report.checks}


def test_trusted_through_the_ca_bundle_every_step_passes_and_signs_in(https_service, ca_bundle,
                                                                       service):
    account = service.account
    report = _run(https_service, ca_bundle=str(ca_bundle), username=account.username,
                  password=account.password)
    assert report.ok, report.lines()
    assert _statuses(report) == dict.fromkeys(STEPS, "pass")
    assert report.check("Secure connection").verdict == (
        "The certificate is trusted: issued to localhost (NCCID Test Service) by NCCID Test Root "
        "CA (NCCID Test).")
    assert report.check("Sign-in").verdict == f"Signed in as {account.username} (site RSH)."
    assert report.check("Proxy").verdict.startswith("No proxy: this computer connects directly")
    assert account.password not in "\n".join(report.lines())


def test_without_the_ca_bundle_the_certificate_is_named_as_untrusted(https_service):
    report = _run(https_service)
    tls = report.check("Secure connection")
    assert not report.ok and tls.status == "fail"
    assert tls.verdict.startswith("This computer does not trust a certificate presented for "
                                  "localhost: issued to localhost (NCCID Test Service) by NCCID "
                                  "Test Root CA (NCCID Test).")
    assert "your proxy may be inspecting TLS" in tls.verdict
    assert "via the ca_bundle policy" in tls.ask_it and "NCCID Test Root CA" in tls.ask_it
    assert _statuses(report)["Service"] == "skip" == _statuses(report)["Sign-in"]


def test_an_intercepting_proxy_certificate_names_its_issuer(service, ca_bundle, tmp_path):
    firewall = make_authority("Trust Firewall Inspection CA", "Example NHS Trust")
    cert, key = issue_server_pair(firewall, tmp_path)
    with tls_front(service.url, cert, key) as front:
        report = _run(f"https://localhost:{front.port}", ca_bundle=str(ca_bundle))
    tls = report.check("Secure connection")
    assert tls.status == "fail"
    assert "by Trust Firewall Inspection CA (Example NHS Trust)" in tls.verdict
    assert "inspecting TLS" in tls.verdict
    assert "(Trust Firewall Inspection CA (Example NHS Trust)) via the ca_bundle policy" in tls.ask_it


def test_a_certificate_for_another_name_or_out_of_date_is_said_so(service, root_ca, ca_bundle,
                                                                 tmp_path):
    cert, key = issue_server_pair(root_ca, tmp_path, names=("other.example",),
                                  common="other.example")
    with tls_front(service.url, cert, key) as front:
        report = _run(f"https://localhost:{front.port}", ca_bundle=str(ca_bundle))
    verdict = report.check("Secure connection").verdict
    assert "is for other.example, 127.0.0.1, not localhost" in verdict
    cert, key = issue_server_pair(root_ca, tmp_path, expired=True)
    with tls_front(service.url, cert, key) as front:
        report = _run(f"https://localhost:{front.port}", ca_bundle=str(ca_bundle))
    assert " expired on " in report.check("Secure connection").verdict


def test_a_closed_port_means_the_service_is_down_or_the_address_wrong():
    report = _run(f"https://127.0.0.1:{closed_port()}")
    connection = report.check("Connection")
    assert connection.status == "fail"
    assert connection.verdict.startswith("Nothing answers at 127.0.0.1:")
    assert "the service may be down" in connection.verdict
    assert _statuses(report)["Name lookup"] == "pass"


def test_an_unresolvable_name_is_a_name_lookup_failure():
    report = _run("https://nccid.invalid")
    lookup = report.check("Name lookup")
    assert lookup.status == "fail" and "nccid.invalid cannot be found" in lookup.verdict
    assert "(DNS)" in lookup.ask_it
    assert [c.status for c in report.checks[2:]] == ["skip"] * 5


def test_an_explicit_proxy_is_used_and_named(https_service, ca_bundle, service):
    with http_proxy() as proxy:
        report = _run(https_service, ca_bundle=str(ca_bundle), proxy=f"http://127.0.0.1:{proxy.port}",
                      username=service.account.username, password=service.account.password)
    assert report.ok, report.lines()
    assert report.check("Proxy").verdict == (f"Using the proxy http://127.0.0.1:{proxy.port} (from "
                                             "the settings); it answers.")
    port = https_service.rsplit(":", 1)[1]
    tunnels = [line for line in proxy.seen if line.startswith(f"CONNECT localhost:{port} ")]
    assert len(tunnels) >= 3  # the doctor's own probes, then the app's session


def test_the_system_proxy_is_found_and_none_bypasses_it(https_service, ca_bundle, monkeypatch):
    with http_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        report = _run(https_service, ca_bundle=str(ca_bundle))
        assert report.ok, report.lines()
        assert "(from the system)" in report.check("Proxy").verdict
        assert proxy.seen
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port()}")
    report = _run(https_service, ca_bundle=str(ca_bundle), proxy="none")
    assert report.ok, report.lines()
    assert "the proxy setting is none" in report.check("Proxy").verdict


@pytest.mark.parametrize(("answer", "says"), [
    ("403 Forbidden", "The proxy refuses connections to localhost:"),
    ("407 Proxy Authentication Required", "asks for a user name and password")])
def test_a_proxy_that_says_no_is_explained(https_service, ca_bundle, answer, says):
    with http_proxy(refuse=answer) as proxy:
        report = _run(https_service, ca_bundle=str(ca_bundle),
                      proxy=f"http://helpdesk:Pr0xyPw@127.0.0.1:{proxy.port}")
    connection = report.check("Connection")
    assert connection.status == "fail" and says in connection.verdict
    text = "\n".join(report.lines())
    assert "Pr0xyPw" not in text and "helpdesk" not in text


def test_a_proxy_that_is_down_or_cannot_reach_the_name(https_service):
    report = _run(https_service, proxy=f"http://127.0.0.1:{closed_port()}")
    assert report.check("Proxy").status == "fail"
    assert "does not answer" in report.check("Proxy").verdict
    with http_proxy() as proxy:
        report = _run("https://nccid.invalid", proxy=f"http://127.0.0.1:{proxy.port}")
    assert report.check("Name lookup").status == "skip"
    assert "the proxy does that" in report.check("Name lookup").verdict
    assert "The proxy could not reach nccid.invalid:443 (502" in report.check("Connection").verdict


def test_plain_http_through_a_proxy_warns_but_reaches_the_service(service):
    with http_proxy() as proxy:
        report = _run(service.url, proxy=f"http://127.0.0.1:{proxy.port}")
    assert report.ok, report.lines()
    assert report.check("Secure connection").status == "warn"
    assert report.check("Service").verdict.startswith("The NCCID collection service answered")
    assert any(line.startswith(f"GET {service.url}/api/v1/health") for line in proxy.seen)


def test_a_wrong_password_fails_sign_in_only(https_service, ca_bundle, service):
    service.add_user("doctor-user", "Correct-Horse-42!")
    report = _run(https_service, ca_bundle=str(ca_bundle), username="doctor-user",
                  password="Wrong-Battery-7!")
    assert _statuses(report) == {**dict.fromkeys(STEPS, "pass"), "Sign-in": "fail"}
    assert "Wrong-Battery-7!" not in "\n".join(report.lines())


def test_a_missing_ca_bundle_or_server_is_a_settings_failure(tmp_path):
    report = _run("https://localhost", ca_bundle=str(tmp_path / "absent.pem"))
    assert report.check("Settings").status == "fail"
    assert "absent.pem does not exist" in report.check("Settings").verdict
    report = diagnose(config.resolve({}, {}))
    assert report.check("Settings").verdict == "No collection service address is set."


def test_progress_is_reported_per_step_and_cancel_stops(https_service, ca_bundle):
    seen = []
    effective = config.resolve({"server_url": https_service, "ca_bundle": str(ca_bundle)}, {})
    diagnose(effective, progress=seen.append)
    assert [p.done for p in seen] == list(range(len(STEPS) + 1))
    assert seen[-1].total == len(STEPS)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        diagnose(effective, cancel=token)
