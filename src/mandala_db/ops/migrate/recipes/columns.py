"""NOT NULL, constraints and indexes on a populated table: a NOT VALID check validated in its own
transaction then SET NOT NULL over it, CHECK and foreign keys NOT VALID then VALIDATE, unique constraints
over an index built concurrently, indexes built CONCURRENTLY."""

from __future__ import annotations

import re

from mandala_db.core.catalog import Column, Table
from mandala_db.migrations.backfill import Backfill
from mandala_db.ops.migrate.recipes.steps import Recipes, concurrently, name, primary_key, uses


def tighten(recipes: Recipes, table: str, col: str, tc: Column) -> None:
    """An existing column made NOT NULL: a NOT VALID check, its validation without blocking writers, then
    SET NOT NULL, which a validated check spares the scan (PostgreSQL 12 and later)."""
    recipes.masked.tables[table].columns[col].nullable = True
    nn = name("ck", table, col, "not_null")
    recipes.notes.append(f"{table}.{col} becomes NOT NULL: a NOT VALID check, validated, then SET NOT NULL")
    recipes.expand.add(f"ALTER TABLE {table} ADD CONSTRAINT {nn} CHECK ({col} IS NOT NULL) NOT VALID",
                       f"ALTER TABLE {table} DROP CONSTRAINT {nn}")  # fmt: skip
    if tc.default is not None:
        key = primary_key(table, recipes.masked.tables[table])
        recipes.expand.backfills.append(
            Backfill(table, set=f"{col} = {tc.default}", where=f"{col} IS NULL", key=key)
        )
    _set_not_null(recipes, table, col, nn)


def _set_not_null(recipes: Recipes, table: str, col: str, nn: str) -> None:
    v = recipes.validate
    v.add(f"ALTER TABLE {table} VALIDATE CONSTRAINT {nn}")
    v.add(
        f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL",
        f"ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL",
    )
    v.add(f"ALTER TABLE {table} DROP CONSTRAINT {nn}",
          f"ALTER TABLE {table} ADD CONSTRAINT {nn} CHECK ({col} IS NOT NULL) NOT VALID")  # fmt: skip


def new_not_null(recipes: Recipes, table: str, t: Table, col: str, tc: Column) -> None:
    """A new NOT NULL column whose default differs row by row: added nullable (no rewrite), the default for
    new rows, the old rows backfilled in batches, then NOT NULL over a validated check."""
    masked = recipes.masked.tables[table]
    masked.columns.pop(col)
    for n in [n for n, (_, d) in masked.constraints.items() if uses(d, col)]:
        del masked.constraints[n]
    for n in [n for n, d in masked.indexes.items() if uses(d.partition(" ON ")[2], col)]:
        del masked.indexes[n]
    nn = name("ck", table, col, "not_null")
    recipes.notes.append(f"{table}.{col} is new, NOT NULL with a per-row default: added nullable, backfilled, "
                         "then NOT NULL over a validated check")  # fmt: skip
    e = recipes.expand
    e.add(f"ALTER TABLE {table} ADD COLUMN {col} {tc.type}", f"ALTER TABLE {table} DROP COLUMN {col}")
    e.add(f"ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {tc.default}")
    e.add(f"ALTER TABLE {table} ADD CONSTRAINT {nn} CHECK ({col} IS NOT NULL) NOT VALID")
    e.backfills.append(Backfill(table, set=f"{col} = {tc.default}", where=f"{col} IS NULL",
                                key=primary_key(table, masked)))  # fmt: skip
    _set_not_null(recipes, table, col, nn)
    for cname, (kind, definition) in sorted(t.constraints.items()):
        if uses(definition, col) and kind in ("c", "f"):
            e.add(f"ALTER TABLE {table} ADD CONSTRAINT {cname} {definition} NOT VALID")
            recipes.validate.add(f"ALTER TABLE {table} VALIDATE CONSTRAINT {cname}")
        elif uses(definition, col) and kind == "u":
            _unique(recipes, table, cname, definition)
    for iname, definition in sorted(t.indexes.items()):
        if uses(definition.partition(" ON ")[2], col):
            _index(recipes, iname, definition)


def constraints(recipes: Recipes, table: str, t: Table, c: Table, moved: set[str]) -> None:
    """New CHECK and foreign key constraints NOT VALID, then validated; new unique ones over an index
    built concurrently. A constraint over a moved column is the move's."""
    masked = recipes.masked.tables[table]
    for cname, (kind, definition) in sorted(t.constraints.items()):
        if c.constraints.get(cname) == (kind, definition) or any(uses(definition, m) for m in moved):
            continue
        if kind in ("c", "f"):
            recipes.notes.append(f"{table}: constraint {cname} added NOT VALID, then validated")
            old = c.constraints.get(cname)
            if old is not None:
                recipes.expand.add(f"ALTER TABLE {table} DROP CONSTRAINT {cname}",
                                   f"ALTER TABLE {table} ADD CONSTRAINT {cname} {old[1]}")  # fmt: skip
            recipes.expand.add(f"ALTER TABLE {table} ADD CONSTRAINT {cname} {definition} NOT VALID",
                               f"ALTER TABLE {table} DROP CONSTRAINT {cname}")  # fmt: skip
            recipes.validate.add(f"ALTER TABLE {table} VALIDATE CONSTRAINT {cname}")
        elif kind == "u" and cname not in c.constraints and _unique(recipes, table, cname, definition):
            recipes.notes.append(f"{table}: unique {cname} over an index built concurrently")
        else:
            continue
        if cname in c.constraints:
            masked.constraints[cname] = c.constraints[cname]
        else:
            masked.constraints.pop(cname, None)


def _unique(recipes: Recipes, table: str, cname: str, definition: str) -> bool:
    m = re.fullmatch(r"UNIQUE (NULLS NOT DISTINCT )?\(([^()]+)\)", definition)
    if not m:
        return False
    nulls = " NULLS NOT DISTINCT" if m.group(1) else ""
    v = recipes.validate
    v.add(f"DROP INDEX CONCURRENTLY IF EXISTS {cname}")
    v.add(f"CREATE UNIQUE INDEX CONCURRENTLY {cname} ON {table} USING btree ({m.group(2)}){nulls}",
          f"DROP INDEX CONCURRENTLY IF EXISTS {cname}")  # fmt: skip
    v.add(f"ALTER TABLE {table} ADD CONSTRAINT {cname} UNIQUE USING INDEX {cname}",
          f"ALTER TABLE {table} DROP CONSTRAINT {cname}")  # fmt: skip
    return True


def indexes(recipes: Recipes, table: str, t: Table, c: Table, moved: set[str]) -> None:
    """New or changed indexes built CONCURRENTLY: writers go on while they build."""
    masked = recipes.masked.tables[table]
    for iname, definition in sorted(t.indexes.items()):
        tail = definition.partition(" ON ")[2]
        if c.indexes.get(iname) == definition or any(uses(tail, m) for m in moved):
            continue
        recipes.notes.append(f"{table}: index {iname} built concurrently")
        old = c.indexes.get(iname)
        if old is not None:
            recipes.validate.add(f"DROP INDEX CONCURRENTLY IF EXISTS {iname}", concurrently(old))
            masked.indexes[iname] = old
        else:
            masked.indexes.pop(iname, None)
        _index(recipes, iname, definition)


def _index(recipes: Recipes, iname: str, definition: str) -> None:
    v = recipes.validate
    v.add(f"DROP INDEX CONCURRENTLY IF EXISTS {iname}")
    v.add(concurrently(definition), f"DROP INDEX CONCURRENTLY IF EXISTS {iname}")
