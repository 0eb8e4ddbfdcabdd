"""autodetector/functions: a function is written again only when its definition changed, and dropped by
its signature once the models no longer have it."""

from __future__ import annotations

from mandala_db.core.catalog import Snapshot
from mandala_db.ops.migrate.autodetector.functions import create_or_replace, drop
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides

TOUCH = "CREATE OR REPLACE FUNCTION public.touch() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$"


def sides(target: dict[str, str], current: dict[str, str]) -> Sides:
    return Sides(Snapshot("public", functions=target), Snapshot("public", functions=current))


def test_an_unchanged_function_is_left_alone_and_a_changed_one_replaced() -> None:
    plan = Plan()
    create_or_replace(plan, sides({"touch()": TOUCH}, {"touch()": TOUCH}))
    assert plan.statements == []
    create_or_replace(plan, sides({"touch()": TOUCH}, {"touch()": TOUCH.replace("NEW", "OLD")}))
    assert plan.statements == [TOUCH]


def test_a_function_the_models_dropped_goes_by_its_signature() -> None:
    plan = Plan()
    drop(plan, sides({"touch()": TOUCH}, {"touch()": TOUCH, "score(integer, text)": "..."}))
    assert plan.statements == ["DROP FUNCTION score(integer, text)"]
