"""ops/migrate/rollback: going back. The plan runs the downgrades newest first down to a target that stays
applied; a target ahead of the database is bad input; a destructive downgrade is named, confirmed as such
and preceded by a backup; a reset drops everything in the schema (what no revision made too), never in a
protected environment, and applies the history again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput, Refused
from mandala_db.core.revision import current_revision
from mandala_db.core.settings import Environment
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import BASE, History
from mandala_db.ops.migrate.rollback import applied, check_reset_allowed, reset, roll_back_to, rollback_plan

HISTORY = History.load()
SPLIT = HISTORY.resolve("split_reflections")
TASKS = HISTORY.resolve("task_management")


def test_the_plan_is_the_applied_revisions_above_the_target_newest_first(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    plan = rollback_plan(conn, HISTORY, TASKS)
    assert [r.id for r in plan] == [r.id for r in reversed(HISTORY.revisions)][:3]
    assert len(rollback_plan(conn, HISTORY, BASE)) == len(HISTORY.revisions)
    entries = applied(Database(deployed), HISTORY)
    assert entries[0].revision.id == SPLIT and entries[0].applied_at is not None
    assert entries[0].to_dict()["destructive_downgrade"].startswith("drops the goal-level reflections")


def test_a_target_ahead_of_the_database_is_bad_input(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    with Executor(Database(db_url), HISTORY, RunOptions()) as ex:
        ex.upgrade(TASKS)
    with pytest.raises(BadInput, match=f"revision {SPLIT} is not applied"):
        rollback_plan(conn, HISTORY, SPLIT)


def test_a_destructive_downgrade_is_confirmed_as_such_and_backed_up_first(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    asked: list[tuple[str, bool]] = []
    run = roll_back_to(
        Database(deployed), HISTORY, TASKS, RunOptions(), tmp_path, lambda w, d: asked.append((w, d))
    )
    [(what, destructive)] = asked
    assert destructive and "DESTRUCTIVE: " + SPLIT in what
    assert run.backup is not None and run.backup.path.exists() and tmp_path in run.backup.path.parents
    assert current_revision(conn) == TASKS


def test_a_refusal_at_the_confirmation_changes_nothing(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    def no(what: str, destructive: bool) -> None:
        raise Refused("not confirmed")

    with pytest.raises(Refused):
        roll_back_to(Database(deployed), HISTORY, TASKS, RunOptions(), tmp_path, no)
    assert current_revision(conn) == SPLIT and not list(tmp_path.iterdir())


def test_nothing_to_roll_back_asks_nothing(deployed: DatabaseURL, tmp_path: Path) -> None:
    run = roll_back_to(
        Database(deployed), HISTORY, SPLIT, RunOptions(), tmp_path, lambda w, d: pytest.fail(w)
    )
    assert run.result is None and run.backup is None


def test_reset_drops_what_no_revision_made_too_and_rebuilds(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("CREATE TABLE scratch_notes (id int); CREATE TYPE scratch_mood AS ENUM ('ok')")
    conn.execute("INSERT INTO users (email, name) VALUES ('gone@example.com', 'Gone')")
    asked: list[str] = []
    result = reset(Database(deployed), HISTORY, RunOptions(), Environment.DEVELOPMENT, asked.append)
    assert asked and asked[0].startswith("Reset ") and len(result.steps) == len(HISTORY.revisions)
    assert conn.execute("SELECT to_regclass('scratch_notes'), to_regtype('scratch_mood')").fetchone() == (
        None,
        None,
    )
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


@pytest.mark.parametrize("environment", [e for e in Environment if e.protected])
def test_reset_is_refused_where_the_environment_is_protected(environment: Environment) -> None:
    with pytest.raises(Refused, match=f"never allowed in {environment.value}"):
        check_reset_allowed(environment)
