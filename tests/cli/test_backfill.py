"""cli/backfill: `migrate backfill status|pause|resume`. Nothing started is said so; a pause taken from any
session shows in the status; resume lifts it and finishes the work (tests/ops/migrate/test_phases.py runs
it through a real expand revision)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from mandala_db.core.url import DatabaseURL


def test_nothing_started_yet(deployed: DatabaseURL, cli: Any) -> None:
    result = cli("migrate", "backfill", "status")
    assert (result.code, result.stdout) == (0, "No backfill has started yet.\n")
    assert json.loads(cli("--json", "migrate", "backfill", "pause").stdout) == {"ok": True, "backfills": []}


def test_a_pause_shows_in_the_status_and_resume_lifts_it(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    from mandala_db.ops.migrate.backfill import DDL

    conn.execute(DDL)
    conn.execute("INSERT INTO mandala_backfills (revision, position, target, status, rows_done) "
                 "VALUES ('20250409000000_split_reflections', 0, 'tasks: SET x = 1', 'running', 42)")  # fmt: skip
    paused = json.loads(cli("--json", "migrate", "backfill", "pause").stdout)["backfills"]
    assert [b["status"] for b in paused] == ["paused"]
    table = cli("migrate", "backfill", "status").stdout.splitlines()
    assert table[0] == "Backfills" and "paused" in table[2] and "42" in table[2]
    resumed = cli("--json", "migrate", "backfill", "resume")
    assert resumed.code == 0, resumed.output
    assert [b["status"] for b in json.loads(resumed.stdout)["backfills"]] == ["running"]
