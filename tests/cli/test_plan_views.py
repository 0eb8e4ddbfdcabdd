"""cli/plan_views: the plan as a person and a reviewer read it. Each pending revision with its statements,
the lock each takes and what it rewrites, the tables it touches and their sizes; the job summary carries the
plan's sha256 that --expect-plan holds a deploy to; validation says Valid only without errors."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from mandala_db.cli.output import PlainScreen
from mandala_db.cli.plan_views import plan_markdown, print_dev, print_plan, print_validation
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.plan import digest, pending_plans

HISTORY = History.load()


def text(draw: Any, *args: Any, **kw: Any) -> list[str]:
    stream = io.StringIO()
    draw(PlainScreen(stream), *args, **kw)
    return stream.getvalue().splitlines()


def test_the_plan_shows_each_revision_its_locks_and_its_tables(db_url: DatabaseURL) -> None:
    with Executor(Database(db_url), HISTORY, RunOptions()) as ex:
        ex.upgrade(HISTORY.resolve("add_workflow_executions"))
    plans = pending_plans(Database(db_url), HISTORY)
    sha = digest(plans)
    lines = text(print_plan, plans, sha)
    assert lines[0] == f"Plan sha256 {sha} (migrate deploy --expect-plan {sha[:12]}... holds a deploy to it)"
    assert any(ln.startswith("20250409000000_split_reflections  split reflections: ") for ln in lines)
    assert any(ln.startswith("  destructive downgrade: drops the goal-level reflections") for ln in lines)
    assert any(ln.startswith("  - CREATE TABLE: ") for ln in lines)
    assert any(ln.startswith("  table reflections: ~") for ln in lines)
    summary = plan_markdown(plans, sha)
    assert summary.startswith(f"### mandala-db plan: 1 revision(s)\n\nplan sha256 `{sha}`")
    assert "#### 20250409000000_split_reflections" in summary
    assert "```sql\nALTER TABLE reflections RENAME TO task_reflections" in summary and summary.endswith("```")


def test_nothing_pending_is_said_in_both_forms() -> None:
    assert text(print_plan, []) == ["Nothing pending: the database is at the head."]
    assert plan_markdown([], "ab") == "### mandala-db plan: nothing pending\n\nplan sha256 `ab`"


def test_validation_is_valid_only_without_errors() -> None:
    warning = SimpleNamespace(severity="warning", message="a rename shows as a drop and an add")
    error = SimpleNamespace(severity="error", message="tasks.x is in the database but not in the models")
    assert text(print_validation, [warning], 7) == [
        "  warning: a rename shows as a drop and an add",
        "Valid: 7 revision(s), models, checksums and the live schema agree.",
    ]
    assert text(print_validation, [error], 7) == ["  error: tasks.x is in the database but not in the models"]


def test_dev_says_what_it_wrote_or_that_nothing_changed() -> None:
    nothing = SimpleNamespace(applied=[], path=None)
    assert text(print_dev, nothing) == ["No changes: the database matches the models."]
    wrote = SimpleNamespace(applied=[], path="versions/r.py", statements=["a", "b"], warnings=["rename?"],
                            destructive=["drops column tasks.x and its data"], steps=[])  # fmt: skip
    assert text(print_dev, wrote) == [
        "Wrote versions/r.py (2 statement(s)).",
        "  lint: rename?",
        "  its downgrade drops column tasks.x and its data",
    ]
    steps = [{"path": "versions/e.py", "phase": "expand", "statements": 5, "backfills": ["tasks: SET b = a"]},
             {"path": "versions/c.py", "phase": "contract", "statements": 3, "backfills": []}]  # fmt: skip
    in_steps = SimpleNamespace(applied=[], path="versions/e.py", statements=[], warnings=[], destructive=[],
                               steps=steps, recipes=["tasks.a renamed to b: expand, contract"])  # fmt: skip
    assert text(print_dev, in_steps) == [
        "In steps, so no populated table is locked for more than a catalog change:",
        "  tasks.a renamed to b: expand, contract",
        "Wrote versions/e.py [expand] (5 statement(s), backfill tasks: SET b = a).",
        "Wrote versions/c.py [contract] (3 statement(s)).",
    ]
