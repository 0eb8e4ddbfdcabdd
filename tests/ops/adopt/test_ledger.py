"""ops/adopt/ledger: Prisma's `_prisma_migrations` read before anything. A failed or unfinished migration
refuses, naming it (as Prisma's P3009 refuses its deploys); a rolled-back one does not; with the migrations
folder, a migration edited after it was applied, or missing, is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import connect_to
from mandala_db.core.errors import Refused
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import ledger
from ops.adopt.prismakit import MIGRATIONS, build, migration_sql


def folder(tmp_path: Path) -> Path:
    for name in MIGRATIONS:
        (tmp_path / name).mkdir()
        (tmp_path / name / "migration.sql").write_text(migration_sql(name))
    return tmp_path


def test_the_applied_migrations_are_read_in_order_and_match_their_files(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    with connect_to(db_url) as conn:
        assert ledger.read(conn) is None  # no ledger: not a database Prisma migrated
        build(conn)
        found = ledger.read(conn)
    assert found is not None and [m.name for m in found] == MIGRATIONS and all(m.finished for m in found)
    assert ledger.check(found, folder(tmp_path)) == []


def test_a_failed_migration_refuses_naming_it_and_its_error(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        build(conn, failed=MIGRATIONS[2])
        found = ledger.read(conn) or []
        with pytest.raises(Refused, match=f"{MIGRATIONS[2]} \\(ERROR: relation already exists\\)"):
            ledger.check(found, None)
        conn.execute('UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE finished_at IS NULL')
        assert (
            ledger.check(ledger.read(conn) or [], None) == []
        )  # resolved --rolled-back: no longer in the way


def test_an_edited_or_missing_migration_file_is_named(db_url: DatabaseURL, tmp_path: Path) -> None:
    with connect_to(db_url) as conn:
        build(conn)
        found = ledger.read(conn) or []
    migrations = folder(tmp_path)
    (migrations / MIGRATIONS[0] / "migration.sql").write_text("-- edited after it ran\n")
    (migrations / MIGRATIONS[3] / "migration.sql").unlink()
    problems = ledger.check(found, migrations)
    assert len(problems) == 2
    assert problems[0].startswith(f"{MIGRATIONS[0]}: migration.sql changed after it was applied")
    assert problems[1].startswith(f"{MIGRATIONS[3]}: applied, but") and "is not there" in problems[1]
