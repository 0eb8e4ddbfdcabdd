"""ops/migrate/recipes/move: a type change or a rename on a populated table, in steps, with SQL of the
application on the old schema and of the one on the new schema run against the table between expand and
contract; a key column is not moved."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import connect_to, in_project
from mandala_db.core import catalog
from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.core.errors import Refused
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate import recipes
from ops.migrate.migratekit import edit_models, ok, spawn
from ops.migrate.recipes.recipekit import INTEGER, MINUTES, SHIPPED, dev, rows, seeded, texts

__all__ = ["seeded"]  # the fixture


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


def state(url: DatabaseURL) -> tuple[str, list[tuple[object, ...]]]:
    with connect_to(url) as conn:
        return catalog.take(conn).fingerprint, rows(
            url, "SELECT id, estimated_minutes FROM tasks ORDER BY id"
        )


def killed(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    assert proc.wait() == -signal.SIGKILL


def test_a_deploy_killed_in_its_backfill_and_again_as_its_contract_starts_ends_as_an_uninterrupted_one(
    project: Path, seeded: DatabaseURL
) -> None:
    edit_models(project, *INTEGER)
    edit_models(project, *MINUTES)
    contract = dev(project, seeded, "minutes_int")["steps"][2]["revision"]
    uninterrupted = state(seeded)
    ok(in_project(project, seeded, "--yes", "migrate", "rollback", "to", SHIPPED))
    slow = ("--batch-size", "20", "--batch-delay", "200ms")  # 7 batches: room to aim at the second
    # Killed once the ledger holds the backfill's second batch (an event, not a clock).
    first = spawn(seeded, "migrate", "deploy", *slow, project=project)
    with connect_to(seeded) as conn:
        while first.poll() is None:
            there = conn.execute("SELECT to_regclass('mandala_backfills') IS NOT NULL").fetchone()
            done = (
                conn.execute("SELECT max(batches) FROM mandala_backfills").fetchone()
                if there == (True,)
                else None
            )
            if done and (done[0] or 0) >= 2:
                break
            time.sleep(0.01)  # how often to look, not when to kill
        killed(first)
        [(status, batches)] = conn.execute("SELECT status, batches FROM mandala_backfills").fetchall()
    assert status == "running" and 2 <= batches < 7
    # Killed at the contract revision's start record, wherever in it that lands: both ends must rerun.
    second = spawn(seeded, "migrate", "deploy", "--contract", project=project)
    assert second.stderr is not None
    for line in second.stderr:
        if f"migration started: {contract}" in line:
            break
    killed(second)
    ok(in_project(project, seeded, "migrate", "deploy", "--contract"))
    assert state(seeded) == uninterrupted
    ok(in_project(project, seeded, "migrate", "validate"))


def snapshot(**columns: Column) -> Snapshot:
    return Snapshot("public", {"t": Table(dict(columns), {"pk_t": ("p", "PRIMARY KEY (id)")})})


def test_a_type_change_postgresql_makes_without_a_rewrite_needs_no_steps() -> None:
    current = snapshot(id=Column("integer", False, None), t=Column("character varying(200)", False, None))
    target = snapshot(id=Column("integer", False, None), t=Column("character varying(300)", False, None))
    assert recipes.plan(target, current, lambda _: True, {}) is None
    narrowed = recipes.plan(current, target, lambda _: True, {})  # shrinking checks every row: in steps
    assert narrowed is not None and "t character varying(300) -> character varying(200)" in narrowed.notes[0]


def test_a_column_moved_to_an_enum_is_cast_through_text() -> None:
    current = snapshot(id=Column("integer", False, None), s=Column("text", False, None))
    target = snapshot(id=Column("integer", False, None), s=Column("mood", False, None))
    target.enums = {"mood": ["calm", "busy"]}  # text::mood is fine, but an enum to another type needs text
    found = recipes.plan(target, current, lambda _: True, {})
    assert found is not None
    [expand] = [step for step in found.steps() if step.backfills]
    assert expand.backfills[0].set == "s_new = (s)::text::mood"
    assert "NEW.s := (NEW.s_new)::text::text;" in expand.up[1]


def test_a_key_column_is_not_moved_in_steps() -> None:
    current = snapshot(id=Column("integer", False, None))
    target = snapshot(id=Column("bigint", False, None))
    with pytest.raises(Refused, match="part of a key"):
        recipes.plan(target, current, lambda _: True, {})
