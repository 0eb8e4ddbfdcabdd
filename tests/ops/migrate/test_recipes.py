"""`migrate dev` on a populated database writes a change that would lock or rewrite a table as revisions in
steps (ops/migrate/recipes.py): expand with its backfill, validate, contract. These tests run the generated
revisions the way production would, with SQL of the application on the old schema and of the one on the
new schema against the table between expand and contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import connect_to, deploy, from_template, in_project, run_cli
from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.core.errors import Refused
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate import recipes
from ops.migrate.migratekit import edit_models, ok

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


def test_a_type_change_goes_out_in_steps_and_old_and_new_applications_both_work_in_between(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, *INTEGER)
    edit_models(project, *MINUTES)
    before = rows(seeded, "SELECT id, estimated_minutes FROM tasks ORDER BY id")
    out = dev(project, seeded, "minutes_int")
    assert [s["phase"] for s in out["steps"]] == ["expand", None, "contract"]
    assert out["lint"] == []  # what the contract breaks on purpose is waived in it, with the reason
    expand, validate, contract = texts(out)
    assert "ADD COLUMN estimated_minutes_new integer" in expand and "Backfill('tasks'" in expand
    assert "VALIDATE CONSTRAINT" in validate
    assert "RENAME COLUMN estimated_minutes_new TO estimated_minutes" in contract
    ok(in_project(project, seeded, "migrate", "validate"))
    assert rows(seeded, "SELECT id, estimated_minutes FROM tasks ORDER BY id") == before

    # Back to the shipped head (every value kept), then forward as production goes: deploy, then contract.
    ok(in_project(project, seeded, "--yes", "migrate", "rollback", "to", SHIPPED))
    assert rows(seeded, "SELECT id, estimated_minutes FROM tasks ORDER BY id") == before
    ok(in_project(project, seeded, "migrate", "deploy"))
    status = in_project(project, seeded, "migrate", "status").stdout
    assert "[contract: waits for deploy --contract]" in status
    with connect_to(seeded) as conn:
        (old_app,) = conn.execute("INSERT INTO tasks (action_id, title, estimated_minutes) SELECT action_id, "
                                  "'old app', 45 FROM tasks LIMIT 1 RETURNING id").fetchone() or ()  # fmt: skip
        (new_app,) = conn.execute("INSERT INTO tasks (action_id, title, estimated_minutes_new) SELECT "
                                  "action_id, 'new app', 50 FROM tasks LIMIT 1 RETURNING id").fetchone() or ()  # fmt: skip
        conn.execute("UPDATE tasks SET estimated_minutes = 46 WHERE id = %s", (old_app,))
        conn.execute("UPDATE tasks SET estimated_minutes_new = 51 WHERE id = %s", (new_app,))
        both = conn.execute("SELECT estimated_minutes, estimated_minutes_new FROM tasks WHERE id IN (%s, %s) "
                            "ORDER BY title DESC", (old_app, new_app)).fetchall()  # fmt: skip
        assert both == [(46, 46), (51, 51)]  # each write reached both columns
        out_of_step = conn.execute(
            "SELECT count(*) FROM tasks WHERE estimated_minutes_new IS DISTINCT FROM estimated_minutes"
        ).fetchone()
        assert out_of_step == (0,)  # the backfill filled every older row
    ok(in_project(project, seeded, "migrate", "deploy", "--contract"))
    ok(in_project(project, seeded, "migrate", "validate"))
    after = dict(rows(seeded, "SELECT id, estimated_minutes FROM tasks"))
    assert {k: after[k] for k, _ in before} == dict(before) and after[old_app] == 46 and after[new_app] == 51
    assert rows(seeded, "SELECT data_type FROM information_schema.columns WHERE table_name = 'tasks' "
                        "AND column_name = 'estimated_minutes'") == [("integer",)]  # fmt: skip
    with connect_to(seeded) as conn:  # the new type's range, now that the contract is done
        conn.execute("UPDATE tasks SET estimated_minutes = 40000 WHERE id = %s", (new_app,))


def test_a_rename_given_by_name_keeps_both_names_in_step_until_the_contract_drops_the_old_one(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, "    description: Mapped[str | None] = mapped_column(Text)\n    type: Mapped[E.TaskType]",
                "    details: Mapped[str | None] = mapped_column(Text)\n    type: Mapped[E.TaskType]")  # fmt: skip
    before = rows(seeded, "SELECT id, description FROM tasks ORDER BY id")
    out = dev(project, seeded, "task_details", "--rename", "tasks.description=details")
    assert [s["phase"] for s in out["steps"]] == ["expand", "contract"]  # nothing to validate
    assert out["lint"] == [] and "DROP COLUMN description" in texts(out)[1]
    ok(in_project(project, seeded, "--yes", "migrate", "rollback", "to", SHIPPED))
    ok(in_project(project, seeded, "migrate", "deploy"))
    with connect_to(seeded) as conn:
        conn.execute("UPDATE tasks SET description = 'by the old app' WHERE id = %s", (before[0][0],))
        conn.execute("UPDATE tasks SET details = 'by the new app' WHERE id = %s", (before[1][0],))
        seen = conn.execute("SELECT description, details FROM tasks WHERE id IN (%s, %s) ORDER BY id",
                            (before[0][0], before[1][0])).fetchall()  # fmt: skip
        assert seen == [("by the old app", "by the old app"), ("by the new app", "by the new app")]
    ok(in_project(project, seeded, "migrate", "deploy", "--contract"))
    ok(in_project(project, seeded, "migrate", "validate"))
    after = dict(rows(seeded, "SELECT id, details FROM tasks"))
    assert [after[k] for k, _ in before[2:]] == [v for _, v in before[2:]]


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
    out = dev(project, seeded, "task_rules")
    assert out["lint"] == []
    first, second = texts(out)
    assert "CHECK ((estimated_minutes <= 1440)) NOT VALID" in first
    assert "VALIDATE CONSTRAINT ck_tasks_estimated_minutes_a_day" in second
    assert "CREATE INDEX CONCURRENTLY ix_tasks_title" in second
    assert "ADD CONSTRAINT uq_tasks_action_id_title UNIQUE USING INDEX" in second
    ok(in_project(project, seeded, "migrate", "validate"))
    ok(in_project(project, seeded, "--yes", "migrate", "rollback", "to", SHIPPED))
    ok(run_cli("migrate", "validate", url=seeded))


def test_on_an_empty_table_the_change_is_one_plain_revision_unless_asked_in_steps(
    project: Path, deployed: DatabaseURL
) -> None:
    edit_models(project, *INTEGER)
    edit_models(project, *MINUTES)
    plain = dev(project, deployed, "--in-steps", "minutes_int")
    assert len(plain["steps"]) == 3  # asked for: in steps even though tasks is empty
    ok(in_project(project, deployed, "--yes", "migrate", "rollback", "to", SHIPPED))
    for step in plain["steps"]:
        Path(step["path"]).unlink()
    one = dev(project, deployed, "minutes_int")
    assert (
        one["steps"] == [] and "ALTER COLUMN estimated_minutes TYPE integer" in Path(one["path"]).read_text()
    )


def test_a_rename_the_models_do_not_make_is_refused_before_anything_is_written(
    project: Path, seeded: DatabaseURL
) -> None:
    result = in_project(project, seeded, "migrate", "dev", "x", "--rename", "tasks.title=name")
    assert result.code == 3 and "--rename tasks.title=name" in result.stderr
    bad = in_project(project, seeded, "migrate", "dev", "x", "--rename", "title")
    assert bad.code == 2 and "TABLE.OLD=NEW" in bad.stderr


def snapshot(**columns: Column) -> Snapshot:
    return Snapshot("public", {"t": Table(dict(columns), {"pk_t": ("p", "PRIMARY KEY (id)")})})


def test_a_key_column_is_not_moved_in_steps() -> None:
    current = snapshot(id=Column("integer", False, None))
    target = snapshot(id=Column("bigint", False, None))
    with pytest.raises(Refused, match="part of a key"):
        recipes.plan(target, current, lambda _: True, {})


def test_generated_names_stay_within_postgresqls_limit_and_distinct() -> None:
    long_a, long_b = recipes.name("ck", "t" * 40, "a" * 30), recipes.name("ck", "t" * 40, "a" * 29 + "b")
    assert len(long_a) <= 63 and len(long_b) <= 63 and long_a != long_b
    assert recipes.concurrently("CREATE UNIQUE INDEX i ON t USING btree (a)").startswith(
        "CREATE UNIQUE INDEX CONCURRENTLY i"
    )
    assert recipes.rename_in("(a > 0) AND (ab > a)", "a", "b") == "(b > 0) AND (ab > b)"
