"""The self-test's certificate check: TLS through the OS store plus an extra CA bundle.

Why a real handshake: a bundle can import ``ssl`` and ``truststore`` and still fail at the
first connection (no trust anchors found, the CA bundle option broken, OpenSSL missing a
piece). A loopback server with a certificate made on the spot, trusted through the same
``tls_context`` the uploads use, proves the whole path without the network. Qt-free.
"""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


class CheckFailed(Exception):
    """A check found the installation incomplete; the message says what is missing."""


def require(condition: bool, problem: str) -> None:
    if not condition:
        raise CheckFailed(problem)


def _serve_once(server: ssl.SSLContext, listener: socket.socket) -> None:
    connection, _ = listener.accept()
    try:
        with server.wrap_socket(connection, server_side=True) as tls:
            tls.sendall(b"ok")
    except (OSError, ssl.SSLError):
        log.info("Self-test TLS server: the handshake did not complete.")


def _self_signed(work: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = time.time()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(_utc(now - 3600)).not_valid_after(_utc(now + 3600))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = work / "selftest-ca.pem", work / "selftest-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _system_store_has_anchors() -> bool:
    if sys.platform == "win32":
        return bool(ssl.enum_certificates("ROOT"))  # type: ignore[attr-defined]
    if sys.platform == "darwin":
        return True  # the Keychain is asked at handshake time; nothing to count beforehand
    context = ssl.create_default_context()
    return bool(context.cert_store_stats()["x509_ca"]) or bool(context.get_ca_certs()) or any(
        Path(p).is_file() for p in ("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem",
                                    "/etc/pki/tls/certs/ca-bundle.crt"))


def check_certificates(work: Path) -> None:
    """TLS through the OS certificate store plus an extra CA bundle, as IT configures it."""
    from nccid_desktop.transport.http import tls_context

    require(_system_store_has_anchors(), "no trusted root certificates were found on this machine")
    cert_path, key_path = _self_signed(work)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=_serve_once, args=(server, listener), daemon=True)
        thread.start()
        client = tls_context(str(cert_path))
        with socket.create_connection(listener.getsockname(), timeout=10) as raw, \
                client.wrap_socket(raw, server_hostname="localhost") as tls:
            require(tls.recv(2) == b"ok", "a TLS connection through the certificate store failed")
        thread.join(10)
