"""A real PostgreSQL 15 server for the service tests, started and stopped by the tests.

initdb refuses to run as root, so the cluster is made by the ``postgres`` user in a
temporary folder it owns, listening on 127.0.0.1 at a random high port with its socket in
that folder. Each test gets a fresh database in the one cluster.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy

from nccid_collector.db import engine_url

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@dataclass
class PostgresCluster:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """The address in the form README and ``--help`` give (no driver named)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    template: str | None = None

    def new_database(self, *, empty: bool = False) -> str:
        """A fresh database, copied from ``template`` (with the service's tables) unless
        ``empty`` or no template was prepared."""
        name = f"t_{secrets.token_hex(6)}"
        engine = sqlalchemy.create_engine(engine_url(self.url()), isolation_level="AUTOCOMMIT")
        source = f' TEMPLATE "{self.template}"' if self.template and not empty else ""
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"{source}'))
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                    "-w", "stop"), capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PostgresCluster:
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError("PostgreSQL 15 server binaries are missing (/usr/lib/postgresql/15/bin)")
    root = Path(tempfile.mkdtemp(prefix="nccid-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PostgresCluster(root, _free_port())
    subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres",
                                "-A", "trust", "--no-sync", "-E", "UTF8"),
                   capture_output=True, timeout=120, check=True)
    options = (f"-p {cluster.port} -k {root} -h 127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400")
    started = subprocess.run(
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-o", options,
                     "-l", str(root / "server.log"), "-w", "start"),
        capture_output=True, timeout=120, check=False)
    if started.returncode != 0:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr!r} {log}")
    return cluster
