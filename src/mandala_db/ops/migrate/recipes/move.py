"""A column moved to another type or another name: the new column beside the old one, a trigger keeping
both in step for old and new writers, a backfill, and a contract that drops the old column and gives the
new one its final name (pgroll's expand/contract, without its views)."""

from __future__ import annotations

import copy
import re

from mandala_db.core.catalog import Snapshot, Table
from mandala_db.core.errors import Refused
from mandala_db.migrations.backfill import Backfill
from mandala_db.ops.migrate.recipes.steps import (
    Recipes,
    concurrently,
    index_on,
    name,
    primary_key,
    rename_in,
    uses,
)


def move(recipes: Recipes, table: str, t: Table, c: Table, old: str, new: str) -> None:
    """A column moved: to another type (new == old, a temporary column in between) or to another name."""
    tc, cc = t.columns[new], c.columns[old]
    tmp = new if new != old else _free(f"{old}_new", t, c)
    key = primary_key(table, c)
    keys = [d for kind, d in list(c.constraints.values()) + list(t.constraints.values())
            if kind in ("p", "u", "x") and (uses(d, old) or uses(d, new))]  # fmt: skip
    if key == old or keys or _pointed_at(recipes.current, table, old):
        raise Refused(
            f"{table}.{old} is part of a key (or other rows point at it); mandala-db does not move it in steps",
            "write the change by hand with `migrate dev NAME --empty`",
        )
    for trigger in list(c.triggers.values()) + list(t.triggers.values()):
        if uses(trigger, old) or uses(trigger, new):
            raise Refused(f"a trigger on {table} names {old}: the change cannot go in steps",
                          "write the change by hand with `migrate dev NAME --empty`")  # fmt: skip
    what = f"{cc.type} -> {tc.type}" if new == old else f"renamed to {new}"
    recipes.notes.append(f"{table}.{old} {what}: expand (new column {tmp}, a trigger keeping both in step, "
                         "backfill), validate, contract (deploy --contract)")  # fmt: skip
    _mask_column(recipes.masked.tables[table], c, old, new)
    # An enum casts to another type only through text.
    via = (
        "::text" if {tc.type, cc.type} & (recipes.current.enums.keys() | recipes.masked.enums.keys()) else ""
    )
    cast_new = f"{via}::{tc.type}" if tc.type != cc.type else ""
    cast_old = f"{via}::{cc.type}" if tc.type != cc.type else ""
    fn, trigger = name("mandala_sync", table, old), name("mandala_sync", table, old)
    e, v, k = recipes.expand, recipes.validate, recipes.contract
    e.add(f"ALTER TABLE {table} ADD COLUMN {tmp} {tc.type}", f"ALTER TABLE {table} DROP COLUMN {tmp}")
    sync = _sync_function(fn, old, tmp, cast_new, cast_old)
    e.add(sync, f"DROP FUNCTION {fn}()")
    create_trigger = (
        f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
        f"WHEN (NEW.{tmp} IS DISTINCT FROM (NEW.{old}){cast_new}) EXECUTE FUNCTION {fn}()"
    )
    e.add(create_trigger, f"DROP TRIGGER {trigger} ON {table}")
    e.backfills.append(Backfill(table, set=f"{tmp} = ({old}){cast_new}",
                                where=f"{tmp} IS DISTINCT FROM ({old}){cast_new}", key=key))  # fmt: skip
    renamed: list[tuple[str, str, str]] = []  # (kind, temporary name, final name)
    nn = name("ck", table, tmp, "not_null") if not tc.nullable else None
    if nn:
        e.add(f"ALTER TABLE {table} ADD CONSTRAINT {nn} CHECK ({tmp} IS NOT NULL) NOT VALID",
              f"ALTER TABLE {table} DROP CONSTRAINT {nn}")  # fmt: skip
        v.add(f"ALTER TABLE {table} VALIDATE CONSTRAINT {nn}")
    for cname, (kind, definition) in sorted(t.constraints.items()):
        if not uses(definition, new) or kind not in ("c", "f"):
            continue
        temp = cname if cname not in c.constraints else name(cname, "new")
        e.add(f"ALTER TABLE {table} ADD CONSTRAINT {temp} {_own_columns(kind, definition, new, tmp)} NOT VALID",
              f"ALTER TABLE {table} DROP CONSTRAINT {temp}")  # fmt: skip
        v.add(f"ALTER TABLE {table} VALIDATE CONSTRAINT {temp}")
        if temp != cname:
            renamed.append(("CONSTRAINT", temp, cname))
    for iname, definition in sorted(t.indexes.items()):
        if not uses(definition.partition(" ON ")[2], new):
            continue
        temp = iname if iname not in c.indexes else name(iname, "new")
        v.add(f"DROP INDEX CONCURRENTLY IF EXISTS {temp}")
        v.add(
            concurrently(index_on(definition, iname, temp, new, tmp)),
            f"DROP INDEX CONCURRENTLY IF EXISTS {temp}",
        )
        if temp != iname:
            renamed.append(("INDEX", temp, iname))
    # The contract: each statement a catalog change under a lock held for milliseconds.
    if nn:
        k.add(
            f"ALTER TABLE {table} ALTER COLUMN {tmp} SET NOT NULL",
            f"ALTER TABLE {table} ALTER COLUMN {tmp} DROP NOT NULL",
        )
        k.add(f"ALTER TABLE {table} DROP CONSTRAINT {nn}",
              f"ALTER TABLE {table} ADD CONSTRAINT {nn} CHECK ({tmp} IS NOT NULL) NOT VALID")  # fmt: skip
    k.add(f"DROP TRIGGER {trigger} ON {table}", create_trigger)
    k.add(f"DROP FUNCTION {fn}()", sync)
    k.add(f"ALTER TABLE {table} DROP COLUMN {old}", *_restore_column(table, c, old, tmp, cast_old))
    k.waivers["drop-column"] = (
        k.waivers.get("drop-column", "the contract of a change in steps:")
        + f" {table}.{old} was copied to {tmp} by the expand revision's backfill, kept in step by its trigger;"
    )
    if tmp != new:
        k.add(
            f"ALTER TABLE {table} RENAME COLUMN {tmp} TO {new}",
            f"ALTER TABLE {table} RENAME COLUMN {new} TO {tmp}",
        )
        k.waivers["rename"] = (
            k.waivers.get("rename", "the contract of a change in steps:")
            + f" {tmp} takes the name of {table}.{new}, which both applications use throughout;"
        )
    if tc.default is not None:
        k.add(f"ALTER TABLE {table} ALTER COLUMN {new} SET DEFAULT {tc.default}",
              f"ALTER TABLE {table} ALTER COLUMN {new} DROP DEFAULT")  # fmt: skip
    for kind, temp, final in renamed:
        if kind == "INDEX":
            k.add(f"ALTER INDEX {temp} RENAME TO {final}", f"ALTER INDEX {final} RENAME TO {temp}")
        else:
            k.add(f"ALTER TABLE {table} RENAME CONSTRAINT {temp} TO {final}",
                  f"ALTER TABLE {table} RENAME CONSTRAINT {final} TO {temp}")  # fmt: skip


def _sync_function(fn: str, old: str, new: str, cast_new: str, cast_old: str) -> str:
    """Each write reaches both columns: a write to the old column (the old application) is copied to the new
    one, a write to the new column (the new application) back to the old one. The trigger's WHEN clause
    skips rows already in step, so the backfill's own updates cost no call."""
    return f"""CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.{old} IS DISTINCT FROM OLD.{old} THEN
        NEW.{new} := (NEW.{old}){cast_new};
    ELSIF (TG_OP = 'UPDATE' AND NEW.{new} IS DISTINCT FROM OLD.{new}) OR (TG_OP = 'INSERT' AND NEW.{new} IS NOT NULL) THEN
        NEW.{old} := (NEW.{new}){cast_old};
    ELSE
        NEW.{new} := (NEW.{old}){cast_new};
    END IF;
    RETURN NEW;
END
$$"""


def _restore_column(table: str, c: Table, old: str, tmp: str, cast_old: str) -> list[str]:
    """The downgrade of dropping the old column: added again, filled from the new one, and given back its
    constraints and indexes."""
    cc = c.columns[old]
    out = [f"ALTER TABLE {table} ADD COLUMN {old} {cc.type}", f"UPDATE {table} SET {old} = ({tmp}){cast_old}"]
    if not cc.nullable:
        out.append(f"ALTER TABLE {table} ALTER COLUMN {old} SET NOT NULL")
    if cc.default is not None:
        out.append(f"ALTER TABLE {table} ALTER COLUMN {old} SET DEFAULT {cc.default}")
    out += [f"ALTER TABLE {table} ADD CONSTRAINT {n} {d}" for n, (_, d) in sorted(c.constraints.items())
            if uses(d, old)]  # fmt: skip
    out += [d for _, d in sorted(c.indexes.items()) if uses(d.partition(" ON ")[2], old)]
    return out


def _pointed_at(current: Snapshot, table: str, column: str) -> bool:
    """Whether a foreign key anywhere references this column."""
    pattern = re.compile(rf"REFERENCES {re.escape(table)}\(([^)]*)\)")
    return any(
        kind == "f" and (m := pattern.search(d)) is not None and uses(m.group(1), column)
        for t in current.tables.values()
        for kind, d in t.constraints.values()
    )


def _own_columns(kind: str, definition: str, old: str, new: str) -> str:
    """A constraint over the new column in place of the old: a foreign key's referenced columns stay."""
    if kind == "f":
        head, sep, tail = definition.partition(" REFERENCES ")
        return rename_in(head, old, new) + sep + tail
    return rename_in(definition, old, new)


def _free(wanted: str, *tables: Table) -> str:
    candidate, n = wanted, 2
    while any(candidate in t.columns for t in tables):
        candidate, n = f"{wanted}{n}", n + 1
    return candidate


def _mask_column(masked: Table, c: Table, old: str, new: str) -> None:
    """The models' table as the database has it for this column: the plain revision leaves it alone."""
    masked.columns.pop(new, None)
    masked.columns[old] = copy.deepcopy(c.columns[old])
    for n in [n for n, (_, d) in masked.constraints.items() if uses(d, new) or uses(d, old)]:
        del masked.constraints[n]
    masked.constraints.update({n: kd for n, kd in c.constraints.items() if uses(kd[1], old)})
    for n in [n for n, d in masked.indexes.items() if uses(d.partition(" ON ")[2], new) or uses(d, old)]:
        del masked.indexes[n]
    masked.indexes.update({n: d for n, d in c.indexes.items() if uses(d.partition(" ON ")[2], old)})
