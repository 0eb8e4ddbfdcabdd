"""The revision record: which revision a database is at (the one row of `alembic_version`) and which
schema the application lives in. The only place that reads them; everything else asks here."""

from __future__ import annotations

from typing import Any

import psycopg

from mandala_db.core.errors import OperationFailed

VERSION_TABLE = "alembic_version"


def current_schema(conn: psycopg.Connection[Any]) -> str:
    """The schema the session's unqualified names go to (the URL's `schema=`, else public)."""
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"


def version_table_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,)).fetchone()
    return bool(row and row[0])


def stamp(conn: psycopg.Connection[Any], revision: str | None) -> None:
    """Record `revision` as the database's (None: base), in the caller's transaction, creating the table as
    Alembic does when it is missing."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num varchar(255) NOT NULL, "
        f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
    )
    conn.execute(f"DELETE FROM {VERSION_TABLE}")
    if revision is not None:
        conn.execute(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (%s)", (revision,))


def revision_check_sql(schema_literal: str, expected: str, marker: str) -> str:
    """PL/pgSQL for a session we cannot pass parameters to (a restore's psql): raise when the revision
    recorded in the schema is not `expected`. Both literals must already be escaped."""
    return f"""
    IF to_regclass(format('%I.{VERSION_TABLE}', '{schema_literal}')) IS NOT NULL THEN
        EXECUTE format('SELECT max(version_num) FROM %I.{VERSION_TABLE}', '{schema_literal}') INTO revision;
        IF revision IS DISTINCT FROM '{expected}' THEN
            RAISE EXCEPTION '{marker} the restored revision is %, the manifest says {expected}',
                coalesce(revision, 'none');
        END IF;
    END IF;"""


def current_revision(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,)).fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    if len(found) > 1:
        raise OperationFailed(
            f"{VERSION_TABLE} holds {len(found)} rows ({', '.join(r[0] for r in found)}); mandala-db keeps one head",
            "mend it with `migrate resolve`",
        )
    return found[0][0] if found else None
