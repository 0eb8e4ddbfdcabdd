"""migrations/backfill: the declaration a revision makes. A backfill names its table, what to set, which
rows still need it and its key; its label is what status, plan and the logs show."""

from __future__ import annotations

from mandala_db.migrations.backfill import PHASES, Backfill


def test_a_backfill_is_labelled_as_the_sql_it_runs() -> None:
    b = Backfill("tasks", set="minutes_v2 = estimated_minutes", where="minutes_v2 IS NULL")
    assert b.key == "id" and b.label == "tasks: SET minutes_v2 = estimated_minutes WHERE minutes_v2 IS NULL"
    assert Backfill("tasks", set="x = 1").label == "tasks: SET x = 1"


def test_the_phases_are_expand_and_contract() -> None:
    assert PHASES == ("expand", "contract")
