"""The models rendered as PostgreSQL DDL, and the catalog snapshot of what that DDL builds."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from mandala_db.core import catalog


def models_ddl() -> list[str]:
    """CREATE statements for the whole model, in dependency order, exactly as SQLAlchemy emits them."""
    from sqlalchemy import create_mock_engine

    from mandala_db.schema.models import metadata

    statements: list[str] = []

    def collect(sql: Any, *multiparams: Any, **params: Any) -> None:
        statements.append(str(sql.compile(dialect=engine.dialect)).strip())

    engine = create_mock_engine("postgresql+psycopg://", collect)
    metadata.create_all(engine, checkfirst=False)
    return statements


def models_snapshot(conn: psycopg.Connection[Any]) -> catalog.Snapshot:
    """Build the models in a scratch schema inside a transaction that is always rolled back, and read it.

    The comparison is then between two catalogs of the same server, so types, defaults and deparsed
    definitions are normalised the same way on both sides; nothing is left behind, even if we are killed.
    """
    scratch = f"mandala_models_{uuid.uuid4().hex[:12]}"
    with conn.transaction(force_rollback=True):
        conn.execute(f"CREATE SCHEMA {scratch}")
        conn.execute(f"SET LOCAL search_path TO {scratch}")
        for statement in models_ddl():
            conn.execute(statement.encode())
        snap = catalog.take(conn, scratch)
    snap.schema = "models"
    return snap
