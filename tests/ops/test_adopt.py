"""ops/adopt, the package: the dry run of `adopt prisma` reads a Prisma-built database and changes nothing
(the catalog, every row and Prisma's ledger as they were, no scratch schema left); it refuses a database
Prisma did not migrate and one mandala-db already manages."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import Refused
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import dry_run
from ops.adopt.prismakit import prisma_db

__all__ = ["prisma_db"]


def everything(url: DatabaseURL) -> tuple[Any, ...]:
    with connect_to(url) as conn:
        schemas = conn.execute("SELECT array_agg(nspname ORDER BY nspname) FROM pg_namespace").fetchone()
        rows = conn.execute(
            """SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM tasks t),
                      (SELECT md5(string_agg(m::text, ',' ORDER BY m::text)) FROM "_prisma_migrations" m)"""
        ).fetchone()
        return catalog.take(conn).fingerprint, schemas, rows


def test_the_dry_run_reports_and_changes_nothing(prisma_db: DatabaseURL) -> None:
    before = everything(prisma_db)
    report = dry_run(Database(prisma_db))
    assert everything(prisma_db) == before
    assert len(report.migrations) == 4 and report.survey.state == "latest" and report.problems == 3
    assert report.tables["tasks"] > 0
    # The plan the adoption would run, table by table, and the validations after it.
    assert 'ALTER TABLE goals RENAME COLUMN "userId" TO user_id' in report.plan["goals"]
    assert sum(len(v) for v in report.plan.values()) > 200 and len(report.validations) == 36


def test_a_change_that_needs_a_decision_is_named_by_the_dry_run(prisma_db: DatabaseURL) -> None:
    with connect_to(prisma_db) as conn:  # the ER spec's DRAFT, which our goal_status does not have
        conn.execute("""ALTER TYPE "GoalStatus" ADD VALUE 'DRAFT'""")
    report = dry_run(Database(prisma_db))
    assert report.problems == 4 and "enum goal_status: labels DRAFT removed" in report.unplannable[0]


def test_a_database_prisma_did_not_migrate_or_mandala_db_manages_is_refused(
    db_url: DatabaseURL, deployed: DatabaseURL
) -> None:
    with pytest.raises(Refused, match="there is no _prisma_migrations table"):
        dry_run(Database(db_url))
    with connect_to(deployed) as conn:
        conn.execute('CREATE TABLE "_prisma_migrations" (id text, checksum text, migration_name text, '
                     "finished_at timestamptz, rolled_back_at timestamptz, logs text, started_at timestamptz)")  # fmt: skip
    with pytest.raises(Refused, match="already has alembic_version"):
        dry_run(Database(deployed))
