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
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.core.errors import Refused
from mandala_db.migrations.backfill import Backfill, Phase
from mandala_db.ops.migrate.autodetector.plan import Sides

NAME_LIMIT = 63  # PostgreSQL truncates longer identifiers, so two long names could become one
VOLATILE = re.compile(r"\b(gen_random_uuid|uuid_generate_v4|random|now|clock_timestamp|nextval)\s*\(", re.I)


@dataclass
class Step:
    slug: str  # appended to the revision's name: expand, validate, contract
    phase: Phase | None = None
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)  # run in the order given (already reversed)
    backfills: list[Backfill] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)  # what its downgrade throws away
    warnings: list[str] = field(default_factory=list)
    waivers: dict[str, str] = field(default_factory=dict)  # lint rules this step breaks on purpose, and why


@dataclass
class _Pairs:
    """Statements with their undo, so a downgrade is always the exact reverse of its upgrade."""

    pairs: list[tuple[str, list[str]]] = field(default_factory=list)
    backfills: list[Backfill] = field(default_factory=list)
    waivers: dict[str, str] = field(default_factory=dict)

    def add(self, up: str, *down: str) -> None:
        self.pairs.append((up, list(down)))

    def step(self, slug: str, phase: Phase | None = None) -> Step:
        down = [d for _, undo in reversed(self.pairs) for d in undo]
        return Step(slug, phase, [u for u, _ in self.pairs], down, list(self.backfills),
                    waivers=dict(self.waivers))  # fmt: skip


@dataclass
class Recipes:
    masked: Snapshot  # the models with the recipes' changes left out: what one plain revision may do
    current: Snapshot
    notes: list[str] = field(default_factory=list)  # one line per change, for the output
    expand: _Pairs = field(default_factory=_Pairs)
    validate: _Pairs = field(default_factory=_Pairs)
    contract: _Pairs = field(default_factory=_Pairs)

    def steps(self) -> list[Step]:
        """The steps in order, empty ones left out; phases only when there is a contract to wait for."""
        phased = bool(self.contract.pairs)
        steps = [
            self.expand.step("expand" if phased else "", "expand" if phased else None),
            self.validate.step("validate"),
            self.contract.step("contract", "contract"),
        ]
        return [s for s in steps if s.up or s.backfills]


def name(*parts: str) -> str:
    joined = "_".join(parts)
    return joined if len(joined) <= NAME_LIMIT else joined[: NAME_LIMIT - 9] + "_" + _digest(joined)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:8]


def uses(definition: str, column: str) -> bool:
    return re.search(rf'(?<![\w"]){re.escape(column)}(?![\w"])', definition) is not None


def rename_in(definition: str, old: str, new: str) -> str:
    return re.sub(rf'(?<![\w"]){re.escape(old)}(?![\w"])', new, definition)


def concurrently(index_sql: str) -> str:
    return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", index_sql)


def index_on(index_sql: str, old_name: str, new_name: str, old_col: str, new_col: str) -> str:
    """The same index under another name, over another column."""
    head, _, tail = index_sql.partition(" ON ")
    return head.replace(f" {old_name}", f" {new_name}", 1) + " ON " + rename_in(tail, old_col, new_col)


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
                _move(recipes, table, t, c, old, new)
                moved |= {old, new}
        if not populated(table):
            continue
        for col in sorted(t.columns.keys() & c.columns.keys()):
            tc, cc = t.columns[col], c.columns[col]
            if col in moved or tc.identity or tc.generated:
                continue
            if tc.type != cc.type:
                _move(recipes, table, t, c, col, col)
                moved.add(col)
            elif cc.nullable and not tc.nullable:
                _tighten(recipes, table, col, tc)
        for col in sorted(t.columns.keys() - c.columns.keys() - moved):
            tc = t.columns[col]
            if not tc.nullable and tc.default and VOLATILE.search(tc.default):
                _new_not_null(recipes, table, t, col, tc)
                moved.add(col)
        _constraints(recipes, table, t, c, moved)
        _indexes(recipes, table, t, c, moved)
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


def primary_key(table: str, t: Table) -> str:
    for contype, definition in t.constraints.values():
        m = re.fullmatch(r"PRIMARY KEY \((\w+)\)", definition)
        if contype == "p" and m:
            return m.group(1)
    raise Refused(
        f"{table} has no one-column primary key to backfill it by, so its change cannot go in steps",
        "write the change by hand (`migrate dev NAME --empty`), or run it on an empty table",
    )


def _move(recipes: Recipes, table: str, t: Table, c: Table, old: str, new: str) -> None:
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
    cast_new = f"::{tc.type}" if tc.type != cc.type else ""
    cast_old = f"::{cc.type}" if tc.type != cc.type else ""
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


def _tighten(recipes: Recipes, table: str, col: str, tc: Column) -> None:
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


def _new_not_null(recipes: Recipes, table: str, t: Table, col: str, tc: Column) -> None:
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


def _constraints(recipes: Recipes, table: str, t: Table, c: Table, moved: set[str]) -> None:
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


def _indexes(recipes: Recipes, table: str, t: Table, c: Table, moved: set[str]) -> None:
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
