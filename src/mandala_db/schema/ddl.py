"""The models rendered as PostgreSQL DDL (the catalog snapshot of what it builds is core.catalog's)."""

from __future__ import annotations

from typing import Any


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
