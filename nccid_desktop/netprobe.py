"""Low-level network probes for ``nccid doctor``: which proxy, a CONNECT tunnel, the certificate.

Why not just requests: when a request fails, requests says *that* it failed, but support needs
to know *where*: the proxy's address, what the proxy answered to CONNECT, and which certificate
was presented (issuer and subject), even when it is not trusted. These probes open the same
kind of connection the app does (through the same proxy, verified by the same
:func:`nccid_desktop.transport.http.tls_context`) one step at a time.
"""

from __future__ import annotations

import base64
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import unquote, urlsplit

import requests
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from nccid_desktop.config import Settings, without_credentials

MAX_PROXY_ANSWER = 16_384


@dataclass(frozen=True)
class ProxyInUse:
    url: str  # for display: credentials removed
    scheme: str
    host: str
    port: int
    origin: Literal["settings", "system"]
    authorization: str | None = None


def proxy_for(settings: Settings, url: str) -> ProxyInUse | None:
    """The proxy the app's session will use for ``url`` (None: a direct connection)."""
    if settings.direct:
        return None
    origin: Literal["settings", "system"] = "settings" if settings.proxy else "system"
    address = settings.proxy or requests.utils.select_proxy(
        url, requests.utils.get_environ_proxies(url, no_proxy=None))
    if not address:
        return None
    parts = urlsplit(address if "://" in address else f"http://{address}")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    default_port = 443 if parts.scheme == "https" else 1080 if parts.scheme.startswith("socks") \
        else 8080
    return ProxyInUse(without_credentials(address) or address, parts.scheme, parts.hostname or "",
                      parts.port or default_port, origin, authorization)


class TunnelRefused(Exception):
    """The proxy answered CONNECT with something other than 200."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason = status, reason


def _read_head(sock: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk or len(head) > MAX_PROXY_ANSWER:
            raise ConnectionError("The proxy closed the connection without an answer.")
        head += chunk
    return head


def open_connection(host: str, port: int, proxy: ProxyInUse | None,
                    timeout: float) -> socket.socket:
    """A TCP connection to ``host:port``, directly or through the proxy's CONNECT tunnel."""
    if proxy is None:
        return socket.create_connection((host, port), timeout=timeout)
    sock = socket.create_connection((proxy.host, proxy.port), timeout=timeout)
    try:
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", "User-Agent: nccid-desktop"]
        if proxy.authorization:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        status_line = _read_head(sock).split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status != 200:
            raise TunnelRefused(status, parts[2] if len(parts) > 2 else "")
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    names: tuple[str, ...]
    not_after: datetime

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def _name(name: x509.Name) -> str:
    common = [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)]
    organisation = [a.value for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if not common:
        return name.rfc4514_string() or "(no name)"
    return f"{common[0]!s}" + (f" ({organisation[0]!s})" if organisation else "")


def describe_certificate(der: bytes) -> Certificate:
    certificate = x509.load_der_x509_certificate(der)
    try:
        extension = certificate.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = tuple(str(n.value) for n in extension)  # type: ignore[attr-defined]
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(_name(certificate.subject), _name(certificate.issuer), names,
                       certificate.not_valid_after_utc)


def presented_certificate(host: str, port: int, proxy: ProxyInUse | None,
                          timeout: float) -> Certificate:
    """The certificate the other end presents, read without trusting it (to name it plainly)."""
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with open_connection(host, port, proxy, timeout) as raw, \
            unverified.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("no certificate was presented")
    return describe_certificate(der)


def verified_certificate(context: ssl.SSLContext, host: str, port: int,
                         proxy: ProxyInUse | None, timeout: float) -> Certificate:
    """Handshake as the app does; raises :class:`ssl.SSLCertVerificationError` if untrusted."""
    with open_connection(host, port, proxy, timeout) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    return describe_certificate(der or b"")
