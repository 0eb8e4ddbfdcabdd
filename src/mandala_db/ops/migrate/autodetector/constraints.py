"""Constraints: changed ones dropped before the columns change (foreign keys first: a key cannot go while a
foreign key uses it), added after the columns (keys before the foreign keys that need them)."""

from __future__ import annotations

from mandala_db.ops.migrate.autodetector.plan import Plan, Sides, ident

# The order constraints are added in: primary keys, unique, exclusion, checks, then foreign keys.
ADD_ORDER = {"p": 0, "u": 1, "x": 2, "c": 3, "f": 4}


def drop_changed(plan: Plan, sides: Sides) -> None:
    drops = [
        (table, name, contype)
        for table in sides.common_tables
        for name, (contype, definition) in sides.current.tables[table].constraints.items()
        if sides.target.tables[table].constraints.get(name, ("", ""))[1] != definition
    ]
    for table, name, _ in sorted(drops, key=lambda d: (d[2] != "f", d[0], d[1])):
        plan.statements.append(f"ALTER TABLE {table} DROP CONSTRAINT {ident(name)}")
    for table in sides.gone_tables:  # their foreign keys, so the tables can go in any order
        for name, (kind, _) in sorted(sides.current.tables[table].constraints.items()):
            if kind == "f":
                plan.statements.append(f"ALTER TABLE {table} DROP CONSTRAINT {ident(name)}")


def add(plan: Plan, sides: Sides) -> None:
    new = set(sides.new_tables)
    adds = [
        (table, name, contype, definition)
        for table in sorted(sides.target.tables)
        for name, (contype, definition) in sides.target.tables[table].constraints.items()
        if table in new or sides.current.tables[table].constraints.get(name, ("", ""))[1] != definition
    ]
    for table, name, _kind, definition in sorted(adds, key=lambda a: (ADD_ORDER.get(a[2], 5), a[0], a[1])):
        plan.statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {ident(name)} {definition}")
