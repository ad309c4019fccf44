"""The doctor's steps along the network path: settings, name lookup, proxy, connection, TLS.

Why these together: each looks at the road to the service (not the service itself) through
the same target (address, port, proxy, timeout), built from the settings by the first step,
and each failure names what to ask IT for: a DNS entry, a proxy address, a firewall rule, a
CA certificate. Proxy credentials never appear in a verdict.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from nccid_desktop.config import SOURCE_LABELS, EffectiveSettings, Settings
from nccid_desktop.doctor.report import Check, Stop, fail
from nccid_desktop.errors import NccidError
from nccid_desktop.netprobe import (
    ProxyInUse,
    TunnelRefused,
    open_connection,
    presented_certificate,
    proxy_for,
    verified_certificate,
)
from nccid_desktop.transport.http import tls_context

X509_HOSTNAME_MISMATCH, X509_EXPIRED = 62, 10


@dataclass
class Target:
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


def check_settings(effective: EffectiveSettings, timeout: float) -> tuple[Check, Target]:
    try:
        settings = effective.settings()
    except NccidError as error:
        raise fail("Settings", str(error), "Ask IT to correct the ca_bundle setting.") from None
    url = settings.server_url
    if not url:
        raise fail("Settings", "No collection service address is set.",
                   "Ask IT for the NCCID service address (server_url).")
    parts = urlsplit(url)
    https = parts.scheme == "https"
    target = Target(settings, url, parts.hostname or "", parts.port or (443 if https else 80),
                    https, proxy_for(settings, url), timeout)
    source = SOURCE_LABELS[effective.source("server_url")]
    return Check("Settings", "pass", f"Service address {url} (from {source})."), target


def check_names(target: Target) -> Check:
    proxy = target.proxy
    if proxy is not None:
        try:
            socket.getaddrinfo(proxy.host, proxy.port)
        except OSError:
            raise fail("Name lookup", f"This computer cannot find the proxy {proxy.host}.",
                       "Ask IT for the right proxy address.") from None
    try:
        found = socket.getaddrinfo(target.host, target.port, proto=socket.IPPROTO_TCP)
    except OSError:
        if proxy is not None:
            return Check("Name lookup", "skip", f"This computer cannot look up {target.host} "
                         "itself; the proxy does that, which is normal behind a proxy.")
        raise fail("Name lookup", f"The name {target.host} cannot be found, so the service "
                   "cannot be reached. The server address may be mistyped.",
                   f"Ask IT whether this computer can look up {target.host} (DNS), or whether "
                   "it must use a proxy.") from None
    return Check("Name lookup", "pass", f"{target.host} was found ({found[0][4][0]}).")


def check_proxy(target: Target) -> Check:
    proxy = target.proxy
    if proxy is None:
        how = "the proxy setting is none" if target.settings.direct else "no proxy is set here " \
            "or in the system settings"
        return Check("Proxy", "pass", f"No proxy: this computer connects directly ({how}).")
    try:
        socket.create_connection((proxy.host, proxy.port), timeout=target.timeout).close()
    except OSError:
        raise fail("Proxy", f"The proxy {proxy.url} (from the {proxy.origin}) does not answer.",
                   "Ask IT for the right proxy address, or whether the proxy is down.") from None
    return Check("Proxy", "pass", f"Using the proxy {proxy.url} (from the {proxy.origin}); it "
                 "answers.")


def check_connection(target: Target) -> Check:
    proxy = target.proxy
    if proxy is not None and (proxy.scheme != "http" or not target.https):
        return Check("Connection", "skip", "Tested through the proxy by the Service check below.")
    try:
        open_connection(target.host, target.port, proxy, target.timeout).close()
    except TunnelRefused as refused:
        raise fail("Connection", _tunnel_verdict(refused, target),
                   f"Ask IT to allow this computer to reach {target.where} through the proxy."
                   ) from None
    except TimeoutError:
        raise fail("Connection", f"No answer from {target.where} within {target.timeout:g} "
                   "seconds: a firewall may be blocking it.",
                   f"Ask IT whether the firewall allows {target.where}.") from None
    except OSError:
        raise fail("Connection", f"Nothing answers at {target.where}: the service may be down, "
                   "or the server address or port may be wrong.",
                   "Check the server address; if it is right, ask the NCCID service desk "
                   "whether the service is running.") from None
    via = f" through the proxy {proxy.url}" if proxy else ""
    return Check("Connection", "pass", f"{target.where} accepts connections{via}.")


def _tunnel_verdict(refused: TunnelRefused, target: Target) -> str:
    if refused.status == 407:
        return "The proxy asks for a user name and password, which the app was not given."
    if refused.status in (403, 405):
        return f"The proxy refuses connections to {target.where} ({refused})."
    return f"The proxy could not reach {target.where} ({refused})."


def check_tls(target: Target) -> Check:
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
        raise fail("Secure connection", f"A secure connection to {target.where} could not be "
                   f"set up ({type(error).__name__}). The address may not be an https service.",
                   "Ask IT whether a firewall interferes with secure connections to "
                   f"{target.host}.") from None
    return Check("Secure connection", "pass", f"The certificate is trusted: issued to "
                 f"{certificate.subject} by {certificate.issuer}.")


def _untrusted(error: ssl.SSLCertVerificationError, target: Target) -> Stop:
    try:
        shown = presented_certificate(target.host, target.port, target.proxy, target.timeout)
    except (ssl.SSLError, OSError, ValueError):
        return fail("Secure connection", f"The certificate of {target.host} is not trusted "
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
    return fail("Secure connection", verdict,
                f"Ask IT to add the CA that issued it ({shown.issuer}) via the ca_bundle policy, "
                f"or to exempt {target.host} from TLS inspection.")


#: The steps that look at the road to the service, by name, in the order they run.
TARGET_STEPS: dict[str, Callable[[Target], Check]] = {
    "Name lookup": check_names, "Proxy": check_proxy, "Connection": check_connection,
    "Secure connection": check_tls}
