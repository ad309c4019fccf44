"""The service's database: accounts, sessions, the upload index and the audit trail.

Why SQLAlchemy Core and integer timestamps: the same tables must work on SQLite (a single
site's demo, the tests) and PostgreSQL (a real deployment) with no dialect-specific SQL, and
epoch seconds compare the same way on both. Nothing here holds a patient identifier: records
are keyed by pseudonym, the NHS/CHI checker by keyed hashes (``nhs_index``), and linkage
tokens are ciphertext only the data controller can open.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)

from nccid_collector.schema_upgrade import add_missing_columns
from nccid_desktop.errors import ConfigError

metadata = MetaData()

service_config = Table(
    "service_config", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sites = Table(
    "sites", metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("site", String(16), ForeignKey("sites.code"), nullable=False),
    Column("roles", String(100), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("password_changed_at", BigInteger, nullable=False),
    Column("must_change", Boolean, nullable=False, default=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    #: an administrator's "disable" (NULL in rows written before the column existed: enabled)
    Column("disabled", Boolean, nullable=True, default=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

clinical_batches = Table(
    "clinical_batches", metadata,
    Column("site", String(16), nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("results", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("site", "batch_id"),
)

#: Every version of every record ever received; the newest row per (site, pseudonym, kind)
#: is the current one. ``path`` is NULL while a same-day correction waits for the next folder.
clinical_records = Table(
    "clinical_records", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(16), nullable=False),
    Column("pseudonym", String(32), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("nhs_index", String(64), nullable=True),
    Column("linkage_token", Text, nullable=True),
    Column("received_at", BigInteger, nullable=False),
    Column("upload_date", String(10), nullable=True),
    Column("path", Text, nullable=True),
    Index("ix_clinical_current", "site", "pseudonym", "kind", "id"),
    Index("ix_clinical_nhs_index", "site", "nhs_index"),
)

#: One row per SOP Instance. ``complete`` turns true once the file is in the warehouse, so a
#: crash between the two steps is finished on the next attempt instead of duplicated.
images = Table(
    "images", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(16), nullable=False),
    Column("sop_instance_uid", String(64), nullable=False, unique=True),
    Column("sop_class_uid", String(64), nullable=False),
    Column("pseudonym", String(32), nullable=False),
    Column("study_uid", String(64), nullable=False),
    Column("series_uid", String(64), nullable=False),
    Column("modality", String(16), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("upload_date", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    Column("received_at", BigInteger, nullable=False),
    #: SHA-256 of the stored file, to tell a corrected re-send from a repeat (NULL: not yet
    #: known, for rows written before the column existed)
    Column("content_hash", String(64), nullable=True),
    Index("ix_images_site_pseudonym", "site", "pseudonym"),
    Index("ix_images_site_study", "site", "study_uid"),
)

#: A withdrawn patient's tombstone: all that is kept once everything else is removed. Either
#: key may be missing (a withdrawal by NHS/CHI index for a site linking on hospital numbers
#: names its pseudonyms through the records it finds). Later uploads matching either key are
#: refused with ``withdrawn``.
withdrawals = Table(
    "withdrawals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(16), nullable=False),
    Column("pseudonym", String(32), nullable=True),
    Column("nhs_index", String(64), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("username", String(64), nullable=False),
    Column("withdrawn_at", BigInteger, nullable=False),
    Index("ix_withdrawals_pseudonym", "site", "pseudonym"),
    Index("ix_withdrawals_nhs_index", "site", "nhs_index"),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("username", String(64), nullable=False),
    Column("site", String(16), nullable=True),
    Column("action", String(40), nullable=False),
    Column("count", Integer, nullable=False, default=0),
    Column("outcome", String(40), nullable=False),
    #: for a refusal: the route ("POST /dicom-web/studies"), the rule and what it concerns
    #: ("identifying_attribute:OtherPatientIDs"), the source address, how many times it
    #: happened in its window and when last (repeats are counted, not written again)
    Column("route", String(80), nullable=True),
    Column("reason", String(120), nullable=True),
    Column("address", String(64), nullable=True),
    Column("occurrences", Integer, nullable=True),
    Column("last_at", BigInteger, nullable=True),
    Index("ix_audit_at", "at"),
)


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'collector.sqlite3'}"


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


#: The address forms README and ``--help`` give, and the driver-qualified ones older set-ups use.
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
#: Preferred first: psycopg 3 is the maintained driver (and SQLAlchemy 2.1's default).
POSTGRES_DRIVERS = ("psycopg", "psycopg2")
#: Connections per process. A request holds at most two at once (a clinical batch's own and
#: one for a warehouse write lock) and the web server runs at most 40 at a time, so more than
#: 40 connections means a request waiting for its second always gets it.
POOL_SIZE = 10
POOL_OVERFLOW = 40
#: Serialises table creation when several replicas start at once on one PostgreSQL database.
_SCHEMA_LOCK = 0x6E63636964  # "nccid"


def installed_postgres_driver() -> str | None:
    return next((name for name in POSTGRES_DRIVERS if importlib.util.find_spec(name)), None)


def engine_url(url: str) -> str:
    """The SQLAlchemy URL for a ``--db`` address, naming the PostgreSQL driver installed here.

    ``postgresql://user@host:port/name`` (the documented form), ``postgres://`` and the
    ``+psycopg`` / ``+psycopg2`` forms all work with whichever driver is installed.
    """
    scheme, sep, rest = url.partition("://")
    if url.startswith("sqlite:"):
        return url
    if not sep or scheme.lower() not in POSTGRES_SCHEMES:
        raise ConfigError("The database must be a sqlite:/// path or a postgresql:// address "
                          "(postgresql://user@host:port/name).")
    driver = installed_postgres_driver()
    if driver is None:
        raise ConfigError("The PostgreSQL driver is not installed: "
                          "pip install 'nccid-desktop[service]' (it brings psycopg).")
    return f"postgresql+{driver}://{rest}"


def open_database(url: str) -> Engine:
    """An engine for ``sqlite:///...`` or ``postgresql://...`` with every table created.

    Statement parameters are hidden from SQLAlchemy's errors and logs: they can be sealed
    site keys, pseudonyms or NHS indexes, and a failed statement's message reaches the log.
    On PostgreSQL the tables are created under an advisory lock, so replicas starting at the
    same moment on an empty database do not trip over each other's ``CREATE TABLE``.
    """
    url = engine_url(url)
    try:
        if url.startswith("sqlite:"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                   hide_parameters=True)
            event.listen(engine, "connect", _tune_sqlite)
            with engine.begin() as conn:
                metadata.create_all(conn)
                add_missing_columns(conn, metadata)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE,
                                   max_overflow=POOL_OVERFLOW, hide_parameters=True)
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                metadata.create_all(conn)
                add_missing_columns(conn, metadata)
    except Exception as exc:  # driver errors carry the URL, which may hold a password
        raise ConfigError(
            f"The collection service database cannot be opened ({type(exc).__name__})."
        ) from exc
    return engine
