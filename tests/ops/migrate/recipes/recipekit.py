"""What the recipe tests share: a populated database (the demo data set on the shipped history), `migrate
dev` in a copy of the project with its JSON read back, the revisions it wrote, and rows read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import connect_to, deploy, from_template, in_project, run_cli
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import ok

SHIPPED = "split_reflections"
INTEGER = ("    DDL,\n", "    DDL,\n    Integer,\n")
MINUTES = (
    "estimated_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)",
    "estimated_minutes: Mapped[int] = mapped_column(Integer, nullable=False)",
)


def seed(url: DatabaseURL) -> None:
    deploy(url)
    ok(run_cli("seed", "demo", url=url))


@pytest.fixture
def seeded(admin_url: DatabaseURL, db_url: DatabaseURL) -> DatabaseURL:
    """Every shipped revision and the demo data set: a populated database, as production is."""
    return from_template(admin_url, db_url, "demo", seed)


def dev(project: Path, url: DatabaseURL, *args: str) -> dict[str, Any]:
    result = ok(in_project(project, url, "--json", "migrate", "dev", *args))
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def texts(out: dict[str, Any]) -> list[str]:
    return [Path(s["path"]).read_text() for s in out["steps"]]


def rows(url: DatabaseURL, sql: str) -> list[tuple[Any, ...]]:
    with connect_to(url) as conn:
        return conn.execute(sql).fetchall()
