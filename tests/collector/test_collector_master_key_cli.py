"""``nccid-collector`` and the master key file: option > environment > default, failing closed."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from nccid_collector.cli import MASTER_KEY_ENV, main
from nccid_collector.secrets_at_rest import MASTER_KEY_FILE_NAME
from tests.collector.service_setup import TEST_DATA

PUBLIC_KEY = TEST_DATA / "controller-test-key.pub.pem"


def _add_site(data: Path, db_url: str, code: str, *extra: str) -> int:
    return main(["add-site", code, "--name", f"Site {code}", "--data", str(data),
                 "--db", db_url, "--controller-key", str(PUBLIC_KEY), *extra])


def test_the_option_beats_the_environment_which_beats_the_default(
        tmp_path: Path, db_url: str, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    data, from_env, from_option = tmp_path / "svc", tmp_path / "env.key", tmp_path / "option.key"
    default = data / MASTER_KEY_FILE_NAME
    monkeypatch.setenv(MASTER_KEY_ENV, str(from_env))
    assert _add_site(data, db_url, "RSH", "--master-key-file", str(from_option)) == 0
    assert from_option.stat().st_mode & 0o777 == 0o600
    assert not from_env.exists() and not default.exists()

    assert _add_site(data, db_url, "OTH") == 1  # the environment's file, which does not exist
    err = capsys.readouterr().err
    assert "master key file is missing" in err and str(from_env) in err
    assert "Traceback" not in err and not from_env.exists()

    monkeypatch.setenv(MASTER_KEY_ENV, str(from_option))
    assert _add_site(data, db_url, "OTH") == 0
    monkeypatch.delenv(MASTER_KEY_ENV)
    assert _add_site(data, db_url, "ABC") == 1  # the default file, which does not exist
    assert str(default) in capsys.readouterr().err and not default.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(data: Path, db_url: str, port: int, env_key: Path, *extra: str) -> subprocess.Popen:
    nccid = Path(sys.executable).with_name("nccid-collector")
    return subprocess.Popen(
        [str(nccid), "serve", "--data", str(data), "--db", db_url,
         "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NCCID_HOME": str(data.parent / "home"), MASTER_KEY_ENV: str(env_key)})


def test_serve_refuses_a_wrong_key_and_starts_with_the_right_one(tmp_path: Path,
                                                                 db_url: str) -> None:
    data, right = tmp_path / "svc", tmp_path / "right.key"
    assert _add_site(data, db_url, "RSH", "--master-key-file", str(right)) == 0
    wrong = tmp_path / "wrong.key"
    wrong_key = secrets.token_bytes(32)
    wrong.write_bytes(wrong_key)

    refused = _serve(data, db_url, _free_port(), wrong)
    out, err = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert "does not open the site keys" in err and "Traceback" not in err
    for text in (out, err, (data / "logs" / "nccid-collector.log").read_text()):
        assert wrong_key.hex() not in text and right.read_bytes().hex() not in text

    port = _free_port()
    process = _serve(data, db_url, port, wrong, "--master-key-file", str(right))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
