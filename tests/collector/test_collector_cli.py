"""``nccid-collector``: administration in-process, ``serve`` as a process, the ``nccid collector`` alias."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from nccid_collector.cli import main
from nccid_collector.demo import DEMO_PASSWORD, DEMO_USER
from nccid_desktop.cli import main as nccid_main
from tests.collector.service_setup import PASSWORD, TEST_DATA

PUBLIC_KEY = TEST_DATA / "controller-test-key.pub.pem"


def _admin(data: Path, db_url: str, *args: str) -> int:
    return main([*args, "--data", str(data), "--db", db_url])


def test_add_site_user_and_reset_password(tmp_path: Path, db_url: str, capsys,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "service"
    assert _admin(data, db_url, "add-site", "rsh", "--name", "Royal Surrey") == 1
    assert "controller's public key" in capsys.readouterr().err
    assert _admin(data, db_url, "add-site", "rsh", "--name", "Royal Surrey",
                  "--controller-key", str(PUBLIC_KEY)) == 0
    assert "Site RSH added" in capsys.readouterr().out
    assert _admin(data, db_url, "add-site", "RSH", "--name", "Again") == 1
    assert "already exists" in capsys.readouterr().err

    monkeypatch.setenv("NCCID_NEW_PASSWORD", "weak")
    assert _admin(data, db_url, "add-user", "sister.jones", "--site", "RSH", "--role", "nurse") == 1
    err = capsys.readouterr().err
    assert err.startswith("nccid-collector: That password is not strong enough") and "Traceback" not in err
    monkeypatch.setenv("NCCID_NEW_PASSWORD", PASSWORD)
    assert _admin(data, db_url, "add-user", "sister.jones", "--site", "RSH",
                  "--role", "nurse,imaging") == 0
    assert _admin(data, db_url, "add-user", "x", "--site", "RSH", "--role", "surgeon") == 1
    assert "Roles must be chosen from" in capsys.readouterr().err
    monkeypatch.setenv("NCCID_NEW_PASSWORD", "Temporary-Pass-55")
    assert _admin(data, db_url, "reset-password", "sister.jones") == 0
    assert _admin(data, db_url, "reset-password", "nobody") == 1

    from nccid_collector import ServiceSettings, accounts, open_service

    service = open_service(ServiceSettings(data_dir=data, db_url=db_url))
    try:
        signed = accounts.sign_in(service.db, service.settings, "sister.jones", "Temporary-Pass-55")
        assert signed.caller.roles == ("imaging", "nurse")
        assert signed.caller.password_change_required
    finally:
        service.close()


def test_bad_database_address_is_a_plain_error(tmp_path: Path, capsys) -> None:
    code = main(["add-site", "RSH", "--name", "X", "--data", str(tmp_path),
                 "--db", "mysql://somewhere/db"])
    assert code == 1 and "sqlite:///" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_as_a_real_process_with_the_demo_account(tmp_path: Path) -> None:
    port = _free_port()
    command = Path(sys.executable).with_name("nccid-collector")
    process = subprocess.Popen(
        [str(command), "serve", "--data", str(tmp_path / "svc"), "--port", str(port),
         "--demo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NCCID_HOME": str(tmp_path / "home")})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/api/v1/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        signed = requests.post(url + "/api/v1/session",
                               json={"username": DEMO_USER, "password": DEMO_PASSWORD}, timeout=30)
        assert signed.status_code == 200 and signed.json()["user"]["site"] == "RSH"
        assert (tmp_path / "svc" / "demo-controller-private.pem").stat().st_mode & 0o077 == 0
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f"sign in as '{DEMO_USER}'" in out
    log = (tmp_path / "svc" / "logs" / "nccid-collector.log").read_text()
    assert "POST /api/v1/session 200" in log and DEMO_PASSWORD not in log


def test_the_nccid_collector_alias_runs_the_service_command(tmp_path: Path, capsys) -> None:
    """``nccid collector`` runs ``nccid-collector`` in a child process (the desktop package
    never imports the service) and returns its exit status."""
    assert nccid_main(["collector", "add-site", "RSH", "--name", "X", "--data",
                       str(tmp_path), "--db", "mysql://somewhere/db"]) == 1


def test_the_alias_says_plainly_when_the_service_is_not_installed(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real(name, *a))
    assert nccid_main(["collector", "serve", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "collection service is not installed" in err and "[service]" in err


def test_port_zero_and_the_ready_file_give_the_address_and_demo_account(tmp_path: Path) -> None:
    import json

    ready = tmp_path / "ready.json"
    command = Path(sys.executable).with_name("nccid-collector")
    process = subprocess.Popen(
        [str(command), "serve", "--data", str(tmp_path / "svc"), "--port", "0", "--demo",
         "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NCCID_HOME": str(tmp_path / "home")})
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.05)
        answer = json.loads(ready.read_text())
        assert ready.stat().st_mode & 0o077 == 0
        assert answer["username"] == DEMO_USER and answer["password"] == DEMO_PASSWORD
        assert requests.get(answer["url"] + "/api/v1/health", timeout=30).ok
        assert not answer["url"].endswith(":0")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
