"""Bring a database written by an earlier version up to the tables the service now defines.

Why not a migration tool: the only changes so far are new nullable columns and new indexes,
which both SQLite and PostgreSQL add in place (``ALTER TABLE ... ADD COLUMN``, ``CREATE INDEX
IF NOT EXISTS``); ``create_all`` makes missing tables but never alters one that exists.
"""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, inspect, text


def add_missing_columns(conn: Connection, metadata: MetaData) -> list[str]:
    """Add every nullable column (and index) ``metadata`` defines that a table lacks; the
    ``table.column`` names added. A missing column that may not be NULL is an error.

    Runs in the caller's transaction, so on PostgreSQL it stays under the schema lock that
    replicas starting together take (:func:`.db.open_database`)."""
    added: list[str] = []
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} cannot be added in place")
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    return added
