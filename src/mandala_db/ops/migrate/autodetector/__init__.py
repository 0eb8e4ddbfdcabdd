"""Turns the difference between two catalog snapshots into SQL: what `migrate dev` writes into a revision.

Both sides come from pg_catalog (the models built in a scratch schema, and the live database), so this sees
what Alembic's autogenerate misses: CHECK constraints, server defaults, functional and partial indexes,
triggers, functions and enum labels. One module per kind of object (as Alembic's `autogenerate/compare/`);
`diff` runs their steps in the order PostgreSQL accepts. The downgrade is the same with the two sides
swapped. A change that cannot be rendered safely (an enum label removed or renamed needs a data mapping)
is reported, never written as an empty or partial revision.
"""

from __future__ import annotations

from mandala_db.core.catalog import Snapshot
from mandala_db.ops.migrate.autodetector import constraints, enums, functions, indexes, tables
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides

__all__ = ["Plan", "diff"]


def diff(target: Snapshot, current: Snapshot, *, allow_enum_rewrite: bool = False) -> Plan:
    """SQL that turns `current` into `target`, in an order PostgreSQL accepts."""
    plan, sides = Plan(), Sides(target, current)
    # 1. Types and functions first: tables and triggers depend on them.
    enums.create_and_alter(plan, sides, allow_rewrite=allow_enum_rewrite)
    functions.create_or_replace(plan, sides)
    # 2. What depends on columns goes before the columns change.
    indexes.drop_changed(plan, sides)
    constraints.drop_changed(plan, sides)
    # 3. Tables and columns; 4. constraints, then indexes and triggers over them.
    tables.create(plan, sides)
    tables.alter_columns(plan, sides)
    constraints.add(plan, sides)
    indexes.create(plan, sides)
    # 5. Whole objects that are gone, dependents first.
    tables.drop(plan, sides)
    enums.drop(plan, sides)
    functions.drop(plan, sides)
    tables.report_ungenerated(plan, sides)
    return plan
