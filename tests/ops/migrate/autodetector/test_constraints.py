"""autodetector/constraints: changed constraints are dropped foreign keys first, and added keys before
the foreign keys that need them; a gone table's foreign keys go before any table does."""

from __future__ import annotations

from mandala_db.core.catalog import Snapshot, Table
from mandala_db.ops.migrate.autodetector.constraints import add, drop_changed
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides

PKEY = ("p", "PRIMARY KEY (id)")
FK = ("f", "FOREIGN KEY (goal_id) REFERENCES goals(id)")
CHECK = ("c", "CHECK (progress >= 0)")
UNIQUE = ("u", "UNIQUE (title)")


def snap(**constraints: dict[str, tuple[str, str]]) -> Snapshot:
    return Snapshot("public", tables={t: Table(constraints=c) for t, c in constraints.items()})


def test_a_new_tables_constraints_come_in_key_unique_check_foreign_key_order() -> None:
    plan = Plan()
    target = snap(goals={"goals_fk": FK, "goals_check": CHECK, "goals_title": UNIQUE, "goals_pkey": PKEY})
    add(plan, Sides(target, Snapshot("public")))
    assert [s.split()[5] for s in plan.statements] == ["goals_pkey", "goals_title", "goals_check", "goals_fk"]


def test_changed_ones_are_dropped_foreign_keys_first_and_unchanged_ones_kept() -> None:
    current = snap(goals={"goals_pkey": PKEY, "goals_check": CHECK}, sub_goals={"sub_fk": FK})
    target = snap(
        goals={"goals_pkey": ("p", "PRIMARY KEY (id, user_id)"), "goals_check": CHECK},
        sub_goals={"sub_fk": ("f", FK[1] + " ON DELETE CASCADE")},
    )
    plan = Plan()
    drop_changed(plan, Sides(target, current))
    assert plan.statements == [
        "ALTER TABLE sub_goals DROP CONSTRAINT sub_fk",
        "ALTER TABLE goals DROP CONSTRAINT goals_pkey",
    ]


def test_a_gone_tables_foreign_keys_are_dropped_so_tables_can_go_in_any_order() -> None:
    plan = Plan()
    drop_changed(plan, Sides(snap(), snap(reminders={"rem_fk": FK, "rem_pkey": PKEY})))
    assert plan.statements == ["ALTER TABLE reminders DROP CONSTRAINT rem_fk"]
