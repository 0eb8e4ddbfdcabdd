"""Recipes: what `migrate dev` writes instead of one revision when the models ask for a change that would
lock or rewrite a populated table. The change is split into steps that each hold a strong lock only for a
catalog update:

- expand (`phase = "expand"` when a contract follows): additive DDL, `NOT VALID` constraints, for a moved
  column (a type change or a rename) the new column and a trigger keeping both in step, and the backfill;
- validate (no phase, the same deploy): `VALIDATE CONSTRAINT` in a transaction of its own, indexes built
  `CONCURRENTLY`, `ADD CONSTRAINT ... USING INDEX`, `SET NOT NULL` over a validated check;
- contract (`phase = "contract"`, `deploy --contract`): what the old application would notice, the old
  column dropped and the new one given its final name.

pgroll's expand/contract without its views: between expand and contract the old application reads and
writes the old column, the new one the new column, and the trigger copies each write to the other. Every
step has its exact downgrade; the chain is proved by `migrate dev` like any revision it writes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from mandala_db.core.catalog import Snapshot
from mandala_db.core.errors import Refused
from mandala_db.ops.migrate.autodetector.plan import Sides
from mandala_db.ops.migrate.model import live_type, rewrites
from mandala_db.ops.migrate.recipes.columns import constraints, indexes, new_not_null, tighten
from mandala_db.ops.migrate.recipes.move import move
from mandala_db.ops.migrate.recipes.steps import Recipes, Step, concurrently, name, per_row, rename_in

__all__ = ["Recipes", "Step", "concurrently", "name", "plan", "rename_in"]


def plan(
    target: Snapshot, current: Snapshot, populated: Callable[[str], bool], renames: dict[str, str]
) -> Recipes | None:
    """The recipes for the models' changes to populated tables, or None when one plain revision is safe.
    `renames` maps "table.old" to the new column name (`migrate dev --rename`)."""
    recipes = Recipes(copy.deepcopy(target), current)
    sides = Sides(target, current)
    for key, new in renames.items():
        table, _, old = key.partition(".")
        _check_rename(sides, table, old, new)
    for table in sides.common_tables:
        t, c = target.tables[table], current.tables[table]
        moved: set[str] = set()
        for key, new in renames.items():  # asked for by name: in steps whatever the size, for the old app
            if key.partition(".")[0] == table:
                old = key.partition(".")[2]
                move(recipes, table, t, c, old, new)
                moved |= {old, new}
        if not populated(table):
            continue
        for col in sorted(t.columns.keys() & c.columns.keys()):
            tc, cc = t.columns[col], c.columns[col]
            if col in moved or tc.identity or tc.generated:
                continue
            if tc.type != cc.type and rewrites(live_type(cc.type), live_type(tc.type)):
                move(recipes, table, t, c, col, col)
                moved.add(col)
            elif cc.nullable and not tc.nullable:
                tighten(recipes, table, col, tc)
        for col in sorted(t.columns.keys() - c.columns.keys() - moved):
            tc = t.columns[col]
            if not tc.nullable and tc.default and per_row(tc.default):
                new_not_null(recipes, table, t, col, tc)
                moved.add(col)
            elif not tc.nullable and tc.default is None and not tc.identity and not tc.generated:
                raise Refused(
                    f"{table}.{col} is new and NOT NULL without a default, and {table} has rows: there is no "
                    "value to give them",
                    "give the column a server_default (the backfill fills the rows with it), or add it nullable "
                    "first and make it NOT NULL in a later revision",
                )
        constraints(recipes, table, t, c, moved)
        indexes(recipes, table, t, c, moved)
    if not (recipes.expand.pairs or recipes.validate.pairs or recipes.contract.pairs):
        return None
    return recipes


def _check_rename(sides: Sides, table: str, old: str, new: str) -> None:
    t, c = sides.target.tables.get(table), sides.current.tables.get(table)
    if t is None or c is None or old not in c.columns or new not in t.columns or old in t.columns \
            or new in c.columns:  # fmt: skip
        raise Refused(
            f"--rename {table}.{old}={new}: the models do not rename that column ({table}.{old} must be in "
            f"the database and gone from the models, {table}.{new} the other way round)",
            "name a column the models renamed: --rename TABLE.OLD=NEW",
        )
