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
