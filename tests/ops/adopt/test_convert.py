"""ops/adopt/convert: the conversion planned from the two catalogs turns the Prisma-built database into
exactly our models (applied here in a transaction that is rolled back), with renames for what only the
catalog holds, Prisma's names matched to ours by definition, and CHECKs and foreign keys NOT VALID."""

from __future__ import annotations

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt.convert import plan
from ops.adopt.prismakit import clean_prisma_db

__all__ = ["clean_prisma_db"]


def test_the_planned_conversion_builds_exactly_our_models(clean_prisma_db: DatabaseURL) -> None:
    with connect_to(clean_prisma_db) as conn:
        live, models = catalog.take(conn), catalog.models_snapshot(conn)
        conversion = plan(live, models)
        assert conversion.unrenderable == []
        with conn.transaction(force_rollback=True):
            for _, sql in conversion.statements:
                conn.execute(sql.encode())
            for sql in conversion.validations:
                conn.execute(sql.encode())
            conn.execute('DROP TABLE "_prisma_migrations"')
            assert catalog.compare(models, catalog.take(conn)) == []
        assert catalog.take(conn).fingerprint == live.fingerprint  # rolled back: as Prisma left it
    sql = [s for _, s in conversion.statements]
    assert 'ALTER TYPE "GoalStatus" RENAME TO goal_status' in sql
    assert 'ALTER TABLE goals RENAME COLUMN "userId" TO user_id' in sql
    assert 'ALTER TABLE task_reminders RENAME COLUMN "reminderAt" TO remind_at' in sql
    assert not [s for s in sql if "change_history RENAME COLUMN" in s]  # its columns were snake_case already
    assert 'ALTER INDEX "goals_userId_status_idx" RENAME TO ix_goals_user_id_status' in sql
    assert ('ALTER TABLE sub_goals ADD CONSTRAINT uq_sub_goals_goal_id_position UNIQUE USING INDEX '
            '"sub_goals_goalId_position_key"') in sql  # fmt: skip
    assert 'DROP INDEX "sub_goals_goalId_position_idx"' in sql  # the redundant one
    checks = [s for s in sql if " ADD CONSTRAINT ck_" in s or "FOREIGN KEY" in s]
    assert checks and all(s.endswith(" NOT VALID") for s in checks)
    assert len(conversion.validations) == len(checks)
    renames = [s for s in sql if " RENAME " in s]
    assert len(renames) > len(sql) / 2  # mostly the catalog: renames
