"""ops/migrate/recipes/columns: NOT NULL over a validated check, a new NOT NULL column with a per-row
default backfilled, CHECK and foreign keys NOT VALID then validated, unique constraints over an index built
concurrently, indexes built CONCURRENTLY."""

from __future__ import annotations

from pathlib import Path

from conftest import connect_to, in_project, run_cli
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import edit_models, ok
from ops.migrate.recipes.recipekit import SHIPPED, dev, rows, seeded, texts

__all__ = ["seeded"]  # the fixture


def test_a_column_made_not_null_is_checked_not_valid_backfilled_validated_then_set(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, "    background: Mapped[str | None] = mapped_column(Text)\n    constraints: Mapped[str | None] = mapped_column(Text)\n    status: Mapped[E.GoalStatus]",
                "    background: Mapped[str] = mapped_column(Text, nullable=False, server_default=text(\"''\"))\n"
                "    constraints: Mapped[str | None] = mapped_column(Text)\n    status: Mapped[E.GoalStatus]")  # fmt: skip
    with connect_to(seeded) as conn:
        conn.execute("UPDATE goals SET background = NULL WHERE id = (SELECT min(id::text)::uuid FROM goals)")
    out = dev(project, seeded, "background_required")
    assert [s["phase"] for s in out["steps"]] == [None, None] and out["lint"] == []
    first, second = texts(out)
    assert "CHECK (background IS NOT NULL) NOT VALID" in first
    assert "Backfill('goals', set=\"background = ''::text\", where='background IS NULL'" in first
    assert (
        second.index("VALIDATE CONSTRAINT") < second.index("SET NOT NULL") < second.index("DROP CONSTRAINT")
    )
    assert rows(seeded, "SELECT count(*) FROM goals WHERE background IS NULL") == [(0,)]
    ok(in_project(project, seeded, "migrate", "validate"))


def test_a_new_not_null_column_with_a_per_row_default_is_added_nullable_and_backfilled(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n    __table_args__ = (\n        CheckConstraint(\"estimated_minutes",
                "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n"
                "    public_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, "
                "server_default=text(\"gen_random_uuid()\"), unique=True)\n"
                "    __table_args__ = (\n        CheckConstraint(\"estimated_minutes")  # fmt: skip
    out = dev(project, seeded, "public_ids")
    assert out["lint"] == []
    first, second = texts(out)
    assert 'ADD COLUMN public_id uuid"' in first and "SET DEFAULT gen_random_uuid()" in first
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in second and "UNIQUE USING INDEX" in second
    assert rows(seeded, "SELECT count(*) = count(DISTINCT public_id) FROM tasks") == [(True,)]
    ok(in_project(project, seeded, "migrate", "validate"))


def test_new_constraints_and_indexes_are_added_not_valid_or_concurrently(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, '        CheckConstraint("estimated_minutes > 0", name="estimated_minutes_positive"),',
                '        CheckConstraint("estimated_minutes > 0", name="estimated_minutes_positive"),\n'
                '        CheckConstraint("estimated_minutes <= 1440", name="estimated_minutes_a_day"),\n'
                '        Index("ix_tasks_title", "title"),\n'
                '        UniqueConstraint("action_id", "title"),')  # fmt: skip
    edit_models(project, "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n    __table_args__ = (\n        CheckConstraint(\"estimated_minutes",
                "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n"
                "    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), fk(\"tasks\"))\n"
                "    __table_args__ = (\n        CheckConstraint(\"estimated_minutes")  # fmt: skip
    out = dev(project, seeded, "task_rules")
    assert [line.split(" ")[1] for line in out["lint"]] == ["[destructive-downgrade]"]  # parent_id's values
    first, second = texts(out)
    assert "CHECK ((estimated_minutes <= 1440)) NOT VALID" in first
    assert "VALIDATE CONSTRAINT ck_tasks_estimated_minutes_a_day" in second
    assert (
        "ADD COLUMN parent_id uuid" in first and "REFERENCES tasks(id) ON DELETE CASCADE NOT VALID" in first
    )
    assert "VALIDATE CONSTRAINT fk_tasks_parent_id_tasks" in second
    assert "CREATE INDEX CONCURRENTLY ix_tasks_title" in second
    assert "ADD CONSTRAINT uq_tasks_action_id_title UNIQUE USING INDEX" in second
    ok(in_project(project, seeded, "migrate", "validate"))
    ok(in_project(project, seeded, "--yes", "migrate", "rollback", "to", SHIPPED))
    ok(run_cli("migrate", "validate", url=seeded))


def test_a_new_not_null_column_without_a_default_is_refused_before_anything_is_written(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n    __table_args__ = (\n        CheckConstraint(\"estimated_minutes",
                "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n"
                "    effort: Mapped[int] = mapped_column(SmallInteger, nullable=False)\n"
                "    __table_args__ = (\n        CheckConstraint(\"estimated_minutes")  # fmt: skip
    before = sorted((project / "src/mandala_db/migrations/versions").glob("*.py"))
    result = in_project(project, seeded, "migrate", "dev", "effort")
    assert result.code == 3 and "tasks.effort is new and NOT NULL without a default" in result.stderr
    assert "server_default" in result.stderr
    assert sorted((project / "src/mandala_db/migrations/versions").glob("*.py")) == before
