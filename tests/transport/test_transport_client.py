"""Client errors are plain sentences; an expired session re-signs in without losing the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from nccid_desktop import config
from nccid_desktop.errors import AuthError, ConfigError, TransportError
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.errors import SessionExpiredError
from nccid_desktop.transport.http import HttpSettings, make_session, retry_after_seconds
from nccid_desktop.transport.outbox import Outbox
from nccid_desktop.transport.uploader import Uploader
from tests.transport.payloads import status_envelope


def test_expired_session_asks_for_sign_in_and_keeps_the_queue(collector, site_keys) -> None:
    account = collector.account
    client = CollectorClient(collector.url)
    client.sign_in(account.username, account.password)
    keys = client.site_keys()
    outbox = Outbox()
    for n in range(3):
        outbox.stage_record(status_envelope(keys, n))
    client.session.headers["Authorization"] = "Bearer not-a-live-token"
    with pytest.raises(SessionExpiredError, match="sign in again"):
        Uploader(client, outbox).run()
    assert outbox.count_pending() == 3
    sign_ins: list[int] = []

    def again() -> None:
        sign_ins.append(1)
        client.sign_in(account.username, account.password)

    report = Uploader(client, outbox, reauthenticate=again).run()
    assert (report.records_stored, sign_ins, outbox.count_pending()) == (3, [1], 0)


def test_wrong_password_is_an_auth_error(collector) -> None:
    with pytest.raises(AuthError) as caught:
        CollectorClient(collector.url).sign_in(collector.account.username, "Wrong-Password-1!")
    assert "password" in str(caught.value) and "Traceback" not in str(caught.value)


def test_untrusted_certificate_is_named_as_such() -> None:
    import ssl
    import threading
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    server = HTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert, key = _self_signed(Path(server.server_address[0]))
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = CollectorClient(f"https://127.0.0.1:{server.server_address[1]}",
                                 HttpSettings(max_attempts=1, connect_timeout=3, read_timeout=3))
        with pytest.raises(TransportError, match="certificate is not trusted"):
            client.health()
        trusting = HttpSettings(max_attempts=1, ca_bundle=str(cert))
        session = make_session(trusting)
        assert session.get(f"https://127.0.0.1:{server.server_address[1]}/", timeout=5).status_code < 500
    finally:
        server.shutdown()


def _self_signed(_: Path) -> tuple[str, str]:
    import datetime
    import ipaddress
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = Path(tempfile.mkdtemp())
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return str(folder / "cert.pem"), str(folder / "key.pem")


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 25 Nov 2026 12:00:10 GMT", now=1795608000.0) == 10.0
    assert retry_after_seconds("soon") is None


def test_settings_layers_options_over_environment_over_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('server_url = "https://file"\nusername = "fileuser"\nlinking = "nhs"\n')
    env = {"NCCID_SERVER": "https://env"}
    settings = config.load({"username": "optuser", "proxy": None}, env, path)
    assert (settings.server_url, settings.username, settings.linking) == ("https://env", "optuser", "nhs")
    path.write_text('password = "x"\n')
    with pytest.raises(ConfigError, match="Passwords must not"):
        config.load({}, {}, path)
