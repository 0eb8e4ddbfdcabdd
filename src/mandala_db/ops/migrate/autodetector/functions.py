"""Functions: created or replaced before the triggers that call them, dropped once nothing uses them."""

from __future__ import annotations

from mandala_db.ops.migrate.autodetector.plan import Plan, Sides


def create_or_replace(plan: Plan, sides: Sides) -> None:
    for name, definition in sorted(sides.target.functions.items()):
        if sides.current.functions.get(name) != definition:
            plan.statements.append(definition)  # pg_get_functiondef renders CREATE OR REPLACE


def drop(plan: Plan, sides: Sides) -> None:
    for name in sorted(sides.current.functions.keys() - sides.target.functions.keys()):
        plan.statements.append(f"DROP FUNCTION {name}")
