"""Indexes and triggers: dropped before the columns they use change, created again once the columns and
constraints are in place."""

from __future__ import annotations

from mandala_db.ops.migrate.autodetector.plan import Plan, Sides, ident


def drop_changed(plan: Plan, sides: Sides) -> None:
    for table in sides.common_tables:
        t, c = sides.target.tables[table], sides.current.tables[table]
        for name in sorted(c.triggers):
            if t.triggers.get(name) != c.triggers[name]:
                plan.statements.append(f"DROP TRIGGER {ident(name)} ON {table}")
        for name in sorted(c.indexes):
            if t.indexes.get(name) != c.indexes[name]:
                plan.statements.append(f"DROP INDEX {ident(name)}")


def create(plan: Plan, sides: Sides) -> None:
    for table in sorted(sides.target.tables):
        t, c = sides.target.tables[table], sides.current.tables.get(table)
        for name, definition in sorted(t.indexes.items()):
            if (c.indexes if c else {}).get(name) != definition:
                plan.statements.append(definition)
        for name, definition in sorted(t.triggers.items()):
            if (c.triggers if c else {}).get(name) != definition:
                plan.statements.append(definition)
