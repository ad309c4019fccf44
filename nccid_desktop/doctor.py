"""``nccid doctor`` and the Test connection button: what stands between this PC and the service.

Why step by step: "cannot connect" is useless to a nurse and to IT alike. Each step (settings,
name lookup, proxy, connection, secure connection, service, sign-in) gets a plain-English
verdict and, when it fails, what to ask IT for. The first failure stops the steps after it,
which would only fail for the same reason. The report names hosts, proxies and certificates,
never a password (a proxy's credentials are removed) and never patient data (none is used).
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from nccid_desktop.config import SOURCE_LABELS, EffectiveSettings, Settings
from nccid_desktop.errors import AuthError, NccidError
from nccid_desktop.netprobe import (
    ProxyInUse,
    TunnelRefused,
    open_connection,
    presented_certificate,
    proxy_for,
    verified_certificate,
)
from nccid_desktop.tasks import NEVER_CANCELLED, CancelToken, Progress, ProgressCallback, no_progress
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.http import http_settings_for, tls_context

log = logging.getLogger(__name__)

Status = Literal["pass", "warn", "fail", "skip"]
STEPS = ("Settings", "Name lookup", "Proxy", "Connection", "Secure connection", "Service",
         "Sign-in")
NOT_TESTED = "Not tested, because an earlier check failed."
X509_HOSTNAME_MISMATCH, X509_EXPIRED = 62, 10


@dataclass(frozen=True)
class Check:
    step: str
    status: Status
    verdict: str
    ask_it: str = ""


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def check(self, step: str) -> Check:
        return next(c for c in self.checks if c.step == step)

    def lines(self) -> list[str]:
        lines = []
        for check in self.checks:
            lines.append(f"{check.status.upper():<5} {check.step}: {check.verdict}")
            if check.ask_it:
                lines.append(f"      Next step: {check.ask_it}")
        return lines


class _Stop(Exception):
    def __init__(self, check: Check) -> None:
        self.check = check


@dataclass
class _Target:
    settings: Settings
    url: str
    host: str
    port: int
    https: bool
    proxy: ProxyInUse | None
    timeout: float

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _fail(step: str, verdict: str, ask_it: str = "") -> _Stop:
    return _Stop(Check(step, "fail", verdict, ask_it))


def _check_settings(effective: EffectiveSettings, timeout: float) -> tuple[Check, _Target]:
    try:
        settings = effective.settings()
    except NccidError as error:
        raise _fail("Settings", str(error), "Ask IT to correct the ca_bundle setting.") from None
    url = settings.server_url
    if not url:
        raise _fail("Settings", "No collection service address is set.",
                    "Ask IT for the NCCID service address (server_url).")
    parts = urlsplit(url)
    https = parts.scheme == "https"
    target = _Target(settings, url, parts.hostname or "", parts.port or (443 if https else 80),
                     https, proxy_for(settings, url), timeout)
    source = SOURCE_LABELS[effective.source("server_url")]
    return Check("Settings", "pass", f"Service address {url} (from {source})."), target


def _check_names(target: _Target) -> Check:
    proxy = target.proxy
    if proxy is not None:
        try:
            socket.getaddrinfo(proxy.host, proxy.port)
        except OSError:
            raise _fail("Name lookup", f"This computer cannot find the proxy {proxy.host}.",
                        "Ask IT for the right proxy address.") from None
    try:
        found = socket.getaddrinfo(target.host, target.port, proto=socket.IPPROTO_TCP)
    except OSError:
        if proxy is not None:
            return Check("Name lookup", "skip", f"This computer cannot look up {target.host} "
                         "itself; the proxy does that, which is normal behind a proxy.")
        raise _fail("Name lookup", f"The name {target.host} cannot be found, so the service "
                    "cannot be reached. The server address may be mistyped.",
                    f"Ask IT whether this computer can look up {target.host} (DNS), or whether "
                    "it must use a proxy.") from None
    return Check("Name lookup", "pass", f"{target.host} was found ({found[0][4][0]}).")


def _check_proxy(target: _Target) -> Check:
    proxy = target.proxy
    if proxy is None:
        how = "the proxy setting is none" if target.settings.direct else "no proxy is set here " \
            "or in the system settings"
        return Check("Proxy", "pass", f"No proxy: this computer connects directly ({how}).")
    try:
        socket.create_connection((proxy.host, proxy.port), timeout=target.timeout).close()
    except OSError:
        raise _fail("Proxy", f"The proxy {proxy.url} (from the {proxy.origin}) does not answer.",
                    "Ask IT for the right proxy address, or whether the proxy is down.") from None
    return Check("Proxy", "pass", f"Using the proxy {proxy.url} (from the {proxy.origin}); it "
                 "answers.")


def _check_connection(target: _Target) -> Check:
    proxy = target.proxy
    if proxy is not None and (proxy.scheme != "http" or not target.https):
        return Check("Connection", "skip", "Tested through the proxy by the Service check below.")
    try:
        open_connection(target.host, target.port, proxy, target.timeout).close()
    except TunnelRefused as refused:
        raise _fail("Connection", _tunnel_verdict(refused, target),
                    f"Ask IT to allow this computer to reach {target.where} through the proxy."
                    ) from None
    except TimeoutError:
        raise _fail("Connection", f"No answer from {target.where} within {target.timeout:g} "
                    "seconds: a firewall may be blocking it.",
                    f"Ask IT whether the firewall allows {target.where}.") from None
    except OSError:
        raise _fail("Connection", f"Nothing answers at {target.where}: the service may be down, "
                    "or the server address or port may be wrong.",
                    "Check the server address; if it is right, ask the NCCID service desk "
                    "whether the service is running.") from None
    via = f" through the proxy {proxy.url}" if proxy else ""
    return Check("Connection", "pass", f"{target.where} accepts connections{via}.")


def _tunnel_verdict(refused: TunnelRefused, target: _Target) -> str:
    if refused.status == 407:
        return "The proxy asks for a user name and password, which the app was not given."
    if refused.status in (403, 405):
        return f"The proxy refuses connections to {target.where} ({refused})."
    return f"The proxy could not reach {target.where} ({refused})."


def _check_tls(target: _Target) -> Check:
    if not target.https:
        return Check("Secure connection", "warn", "The address starts with http://, so nothing "
                     "is encrypted. Only a local test service should be used this way.",
                     "Ask IT for the service's https:// address.")
    if target.proxy is not None and target.proxy.scheme != "http":
        return Check("Secure connection", "skip", "Tested through the proxy by the Service "
                     "check below.")
    context = tls_context(target.settings.ca_bundle)
    args = (target.host, target.port, target.proxy, target.timeout)
    try:
        certificate = verified_certificate(context, *args)
    except ssl.SSLCertVerificationError as error:
        raise _untrusted(error, target) from None
    except (ssl.SSLError, OSError) as error:
        raise _fail("Secure connection", f"A secure connection to {target.where} could not be "
                    f"set up ({type(error).__name__}). The address may not be an https service.",
                    "Ask IT whether a firewall interferes with secure connections to "
                    f"{target.host}.") from None
    return Check("Secure connection", "pass", f"The certificate is trusted: issued to "
                 f"{certificate.subject} by {certificate.issuer}.")


def _untrusted(error: ssl.SSLCertVerificationError, target: _Target) -> _Stop:
    try:
        shown = presented_certificate(target.host, target.port, target.proxy, target.timeout)
    except (ssl.SSLError, OSError, ValueError):
        return _fail("Secure connection", f"The certificate of {target.host} is not trusted "
                     f"({error.verify_message or error.reason}).",
                     "Ask IT to check the service's certificate and the ca_bundle setting.")
    code = getattr(error, "verify_code", None)
    issued = f"issued to {shown.subject} by {shown.issuer}"
    if code == X509_HOSTNAME_MISMATCH:
        names = ", ".join(shown.names) or shown.subject
        verdict = (f"The certificate presented ({issued}) is for {names}, not {target.host}. "
                   "Something between this computer and the service may be answering for it.")
    elif code == X509_EXPIRED:
        verdict = (f"The certificate presented ({issued}) expired on "
                   f"{shown.not_after:%d %B %Y}.")
    else:
        kind = "a self-signed certificate" if shown.self_signed else "a certificate"
        verdict = (f"This computer does not trust {kind} presented for {target.host}: {issued}. "
                   "If that issuer is not the NCCID service's own, your proxy may be inspecting "
                   "TLS.")
    return _fail("Secure connection", verdict,
                 f"Ask IT to add the CA that issued it ({shown.issuer}) via the ca_bundle policy, "
                 f"or to exempt {target.host} from TLS inspection.")


def _client(target: _Target) -> CollectorClient:
    http = http_settings_for(target.settings, connect_timeout=target.timeout,
                             read_timeout=target.timeout, max_attempts=1)
    return CollectorClient(target.url, http)


def _check_service(client: CollectorClient) -> Check:
    try:
        health = client.health()
    except NccidError as error:
        raise _fail("Service", str(error), "If the address is right, ask IT whether a proxy or "
                    "firewall blocks it, or the NCCID service desk whether it is up.") from None
    if not isinstance(health, dict) or health.get("status") != "ok":
        raise _fail("Service", "Something answered, but not the NCCID collection service.",
                    "Check the server address with IT.")
    return Check("Service", "pass", "The NCCID collection service answered (version "
                 f"{health.get('version', 'unknown')}).")


def _check_sign_in(client: CollectorClient, username: str | None, password: str | None) -> Check:
    if not password or not username:
        return Check("Sign-in", "skip", "Not tested: give a user name and password to test it.")
    try:
        signed = client.sign_in(username, password)
    except AuthError as error:
        raise _fail("Sign-in", str(error), "If your password is right, ask the NCCID service "
                    "desk to check your account.") from None
    except NccidError as error:
        raise _fail("Sign-in", str(error)) from None
    try:
        client.sign_out()
    except NccidError:
        log.info("doctor: sign-out after the sign-in test failed")
    return Check("Sign-in", "pass", f"Signed in as {signed.username} (site {signed.site}).")


_TARGET_STEPS: dict[str, Callable[[_Target], Check]] = {
    "Name lookup": _check_names, "Proxy": _check_proxy, "Connection": _check_connection,
    "Secure connection": _check_tls}


@dataclass
class _Run:
    effective: EffectiveSettings
    username: str | None
    password: str | None
    timeout: float
    target: _Target | None = None
    client: CollectorClient | None = None

    def step(self, name: str) -> Check:
        if name == "Settings":
            check, self.target = _check_settings(self.effective, self.timeout)
            return check
        assert self.target is not None
        if name == "Service":
            self.client = _client(self.target)
            return _check_service(self.client)
        if name == "Sign-in":
            assert self.client is not None
            return _check_sign_in(self.client, self.username or self.target.settings.username,
                                  self.password)
        return _TARGET_STEPS[name](self.target)


def diagnose(effective: EffectiveSettings, *, username: str | None = None,
             password: str | None = None, timeout: float = 10.0,
             progress: ProgressCallback = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> DoctorReport:
    """Run every step in order; each verdict is plain English and safe to show or save."""
    report = DoctorReport()
    run = _Run(effective, username, password, timeout)
    failed = False
    for done, step in enumerate(STEPS):
        cancel.raise_if_cancelled()
        progress(Progress(done, len(STEPS), f"Checking: {step.lower()}"))
        if failed:
            report.checks.append(Check(step, "skip", NOT_TESTED))
            continue
        try:
            check = run.step(step)
        except _Stop as stop:
            check, failed = stop.check, True
        log.info("doctor: %s %s", step, check.status)
        report.checks.append(check)
    progress(Progress(len(STEPS), len(STEPS), "Checks finished"))
    return report
