"""Loopback network parts for the doctor's tests: a private CA, a TLS front, a CONNECT proxy.

Why real sockets: the doctor's job is to tell apart a refused port, an untrusted or
intercepted certificate and a proxy that says no. Those differences only exist on a real
connection, so the tests build them on 127.0.0.1: a certificate authority made with
``cryptography``, a TLS-terminating front (like a hospital's load balancer) before the real
collection service, and an HTTP proxy that tunnels CONNECT and forwards plain requests.
"""

from __future__ import annotations

import datetime
import ipaddress
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def write_pem(self, path: Path) -> Path:
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])


def make_authority(common: str, organisation: str = "NCCID Test") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = _name(common, organisation)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                False, False), critical=True)
                   .sign(key, hashes.SHA256()))
    return Authority(common, key, certificate)


def issue_server_pair(authority: Authority, folder: Path, *, names: tuple[str, ...] = ("localhost",),
                      common: str = "localhost", expired: bool = False) -> tuple[Path, Path]:
    """A server certificate for ``names`` (and 127.0.0.1) signed by ``authority``: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    end = now - datetime.timedelta(days=2) if expired else now + datetime.timedelta(days=10)
    alternatives = [x509.DNSName(n) for n in names] + [x509.IPAddress(
        ipaddress.ip_address("127.0.0.1"))]
    certificate = (x509.CertificateBuilder().subject_name(_name(common, "NCCID Test Service"))
                   .issuer_name(authority.certificate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=20)).not_valid_after(end)
                   .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                  critical=False)
                   .sign(authority.key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{authority.name}-{common}-{'expired' if expired else 'valid'}".replace(" ", "_")
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM)
                          + authority.certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [a, b]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 30)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (b if source is a else a).sendall(data)
    except OSError:
        return
    finally:
        for sock in sockets:
            sock.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@dataclass
class Running:
    server: socketserver.TCPServer
    seen: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.server_address[1]


@contextmanager
def _serve(handler: type[socketserver.BaseRequestHandler], running_attrs: dict) -> Iterator[Running]:
    server = _Server(("127.0.0.1", 0), handler)
    running = Running(server)
    server.running = running  # type: ignore[attr-defined]
    for key, value in running_attrs.items():
        setattr(server, key, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        server.shutdown()
        server.server_close()


class _TlsFrontHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        try:
            tls = server.context.wrap_socket(self.request, server_side=True)  # type: ignore[attr-defined]
        except (ssl.SSLError, OSError):
            return
        upstream = socket.create_connection(server.upstream)  # type: ignore[attr-defined]
        relay(tls, upstream)


@contextmanager
def tls_front(upstream_url: str, cert: Path, key: Path) -> Iterator[Running]:
    """HTTPS on 127.0.0.1 in front of the plain-HTTP service at ``upstream_url``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    parts = urlsplit(upstream_url)
    with _serve(_TlsFrontHandler, {"context": context,
                                   "upstream": (parts.hostname, parts.port)}) as running:
        yield running


class _ProxyHandler(socketserver.StreamRequestHandler):
    rbufsize = 0  # unbuffered: whatever follows the head stays in the socket for the relay
    def _answer(self, status: str) -> None:
        self.wfile.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                         .encode())

    def handle(self) -> None:
        server = self.server
        request_line = self.rfile.readline(65536).decode("latin-1").strip()
        headers = []
        while (line := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
            headers.append(line)
        if request_line.count(" ") != 2:
            return
        server.running.seen.append(request_line)  # type: ignore[attr-defined]
        method, target, _version = request_line.split(" ", 2)
        if server.refuse:  # type: ignore[attr-defined]
            self._answer(server.refuse)  # type: ignore[attr-defined]
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                self._answer("502 Bad Gateway")
                return
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            relay(self.connection, upstream)
            return
        parts = urlsplit(target)
        try:
            upstream = socket.create_connection((parts.hostname, parts.port or 80), timeout=5)
        except OSError:
            self._answer("502 Bad Gateway")
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kept = [h for h in headers if not h.lower().startswith((b"proxy-", b"connection"))]
        upstream.sendall(f"{method} {path} HTTP/1.1\r\n".encode() + b"".join(kept)
                         + b"Connection: close\r\n\r\n")
        relay(self.connection, upstream)


@contextmanager
def http_proxy(refuse: str | None = None) -> Iterator[Running]:
    """A forward proxy on 127.0.0.1; ``refuse`` (e.g. "403 Forbidden") answers every request."""
    with _serve(_ProxyHandler, {"refuse": refuse}) as running:
        yield running


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
