"""The database and warehouse addresses README and ``--help`` give work; bad ones are plain errors.

``postgresql://user@host:port/name`` is the documented form; ``postgres://`` and the
driver-qualified ``+psycopg`` / ``+psycopg2`` forms older set-ups use map to the maintained
driver (psycopg 3), so an address never fails for naming a driver that is not installed.
``--storage`` takes a folder or ``s3://BUCKET/PREFIX`` on every command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from nccid_collector import db as database
from nccid_collector.cli import main
from nccid_collector.db import engine_url, open_database
from nccid_desktop.errors import ConfigError
from tests.collector.service_setup import TEST_DATA


def test_every_postgres_form_names_the_installed_driver() -> None:
    assert database.installed_postgres_driver() == "psycopg"
    for scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2",
                   "POSTGRESQL"):
        assert engine_url(f"{scheme}://u:p@db.example:5432/nccid?sslmode=require") == (
            "postgresql+psycopg://u:p@db.example:5432/nccid?sslmode=require")
    assert engine_url("sqlite:////var/lib/x.sqlite3") == "sqlite:////var/lib/x.sqlite3"


@pytest.mark.parametrize("address", ["mysql://db/x", "postgresql+asyncpg://db/x", "db.example/x"])
def test_other_addresses_are_refused_plainly(address: str) -> None:
    with pytest.raises(ConfigError, match=r"postgresql://user@host:port/name"):
        engine_url(address)


def test_a_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "installed_postgres_driver", lambda: None)
    with pytest.raises(ConfigError, match=r"nccid-desktop\[service\]"):
        engine_url("postgresql://u@db/x")


def test_the_help_names_the_documented_form(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "postgresql://user@host:port/name" in " ".join(capsys.readouterr().out.split())


def test_the_documented_address_works_for_a_real_command(pg_cluster, tmp_path: Path) -> None:
    """``nccid-collector add-site ... --db postgresql://user@host:port/name`` as a process."""
    url = pg_cluster.new_database(empty=True)
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("nccid-collector")), "add-site", "RSH",
         "--name", "Royal Surrey", "--controller-key", str(TEST_DATA / "controller-test-key.pub.pem"),
         "--data", str(tmp_path / "svc"), "--db", url],
        capture_output=True, text=True, timeout=120, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert "Site RSH added" in done.stdout
    engine = open_database(url)
    try:
        assert {"sites", "users", "images", "clinical_records"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_psycopg2_form_works_without_psycopg2(pg_cluster, tmp_path: Path, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An address written for the old driver keeps working where only psycopg 3 is installed
    (psycopg2 made unimportable here, whatever the machine has)."""
    real_find_spec = database.importlib.util.find_spec
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # import psycopg2 -> ImportError
    monkeypatch.setattr(database.importlib.util, "find_spec",
                        lambda name, *a: None if name == "psycopg2" else real_find_spec(name, *a))
    assert database.importlib.util.find_spec("psycopg2") is None
    url = pg_cluster.new_database().replace("postgresql://", "postgresql+psycopg2://")
    code = main(["add-site", "OTH", "--name", "Other", "--data", str(tmp_path / "svc"),
                 "--db", url, "--controller-key", str(TEST_DATA / "controller-test-key.pub.pem")])
    assert code == 0, capsys.readouterr().err


def test_a_bad_storage_address_is_a_plain_error(tmp_path: Path, capsys) -> None:
    code = main(["add-site", "RSH", "--name", "X", "--data", str(tmp_path / "svc"),
                 "--storage", "gs://nccid-warehouse/raw"])
    err = capsys.readouterr().err
    assert code == 1 and "not supported" in err and "Traceback" not in err


def test_an_unreachable_bucket_stops_a_command_plainly(s3_server, tmp_path: Path, capsys) -> None:
    code = main(["add-site", "RSH", "--name", "X", "--data", str(tmp_path / "svc"),
                 "--storage", "s3://no-such-bucket-anywhere/raw"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot be reached" in err and "AWS_ENDPOINT_URL" in err
    assert s3_server.secret_key not in err


def test_every_command_takes_the_storage_address(s3_server, tmp_path: Path, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCCID_NEW_PASSWORD", "Correct-Horse-42!")
    commands = [["add-site", "RSH", "--name", "Royal Surrey",
                 "--controller-key", str(TEST_DATA / "controller-test-key.pub.pem")],
                ["add-user", "nurse9", "--site", "RSH", "--role", "nurse"],
                ["reset-password", "nurse9"]]
    data = ["--data", str(tmp_path / "svc")]
    for command in commands:  # each one opens the warehouse it is given, and only that one
        assert main([*command, *data, "--storage", "gs://nccid-warehouse/raw"]) == 1
        assert "not supported" in capsys.readouterr().err
        assert main([*command, *data, "--storage", s3_server.new_address()]) == 0
    assert list((tmp_path / "svc").glob("raw-*")) == []
