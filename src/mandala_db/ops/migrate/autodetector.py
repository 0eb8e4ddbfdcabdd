"""Turns the difference between two catalog snapshots into SQL: what `migrate dev` writes into a revision.

Both sides come from pg_catalog (the models built in a scratch schema, and the live database), so this sees
what Alembic's autogenerate misses: CHECK constraints, server defaults, functional and partial indexes,
triggers, functions and enum labels. The downgrade is the same renderer with the two sides swapped.
A change that cannot be rendered safely (an enum label removed or renamed needs a data mapping) is
reported, never written as an empty or partial revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mandala_db.core.catalog import Column, Snapshot


@dataclass
class Plan:
    statements: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)  # what applying this plan throws away
    unrenderable: list[str] = field(default_factory=list)


def _column_sql(name: str, col: Column) -> str:
    sql = f"{name} {col.type}"
    if col.identity:
        sql += " GENERATED " + ("ALWAYS" if col.identity == "a" else "BY DEFAULT") + " AS IDENTITY"
    elif col.default is not None:
        sql += f" DEFAULT {col.default}"
    if not col.nullable:
        sql += " NOT NULL"
    return sql


def _labels(labels: list[str]) -> str:
    return ", ".join("'" + label.replace("'", "''") + "'" for label in labels)


def _enum_steps(name: str, old: list[str], new: list[str], target: Snapshot, *, allow_rewrite: bool) -> Plan:
    plan = Plan()
    # Labels only added, the old ones keeping their order: ALTER TYPE ... ADD VALUE, each in its place.
    kept = [label for label in new if label in old]
    if kept == old:
        for i, label in enumerate(new):
            if label in old:
                continue
            where = (
                f" BEFORE '{new[i + 1]}'"
                if i + 1 < len(new) and new[i + 1] in old
                else (f" AFTER '{new[i - 1]}'" if i > 0 else "")
            )
            plan.statements.append(f"ALTER TYPE {name} ADD VALUE '{label}'{where}")
        return plan
    removed = [label for label in old if label not in new]
    if not allow_rewrite:
        what = f"labels {', '.join(removed)} removed" if removed else "labels reordered"
        plan.unrenderable.append(
            f"enum {name}: {what} ({', '.join(old)} -> {', '.join(new)}); rows using them need a mapping to "
            "the new labels that only you can decide"
        )
        return plan
    # A rewrite by text: rows that still use a removed label make it fail, so nothing is silently lost.
    plan.statements.append(f"ALTER TYPE {name} RENAME TO {name}_previous")
    plan.statements.append(f"CREATE TYPE {name} AS ENUM ({_labels(new)})")
    for table, column in target.enum_columns(name):
        col = target.tables[table].columns[column]
        cast = f"{column}::text::{col.type}"
        if col.default is not None:
            plan.statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
        plan.statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {col.type} USING {cast}")
        if col.default is not None:
            plan.statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {col.default}")
    plan.statements.append(f"DROP TYPE {name}_previous")
    plan.destructive.append(
        f"removes labels {', '.join(removed)} of enum {name} (fails if rows still use them)"
    )
    return plan


def diff(target: Snapshot, current: Snapshot, *, allow_enum_rewrite: bool = False) -> Plan:
    """SQL that turns `current` into `target`, in an order PostgreSQL accepts."""
    plan = Plan()
    out = plan.statements
    new_tables = sorted(target.tables.keys() - current.tables.keys())
    gone_tables = sorted(current.tables.keys() - target.tables.keys())
    common = sorted(target.tables.keys() & current.tables.keys())

    # 1. Types and functions first: tables and triggers depend on them.
    for name in sorted(target.enums.keys() - current.enums.keys()):
        out.append(f"CREATE TYPE {name} AS ENUM ({_labels(target.enums[name])})")
    for name in sorted(target.enums.keys() & current.enums.keys()):
        if target.enums[name] != current.enums[name]:
            sub = _enum_steps(
                name, current.enums[name], target.enums[name], target, allow_rewrite=allow_enum_rewrite
            )
            out += sub.statements
            plan.unrenderable += sub.unrenderable
    for name, definition in sorted(target.functions.items()):
        if current.functions.get(name) != definition:
            out.append(definition)  # pg_get_functiondef renders CREATE OR REPLACE

    # 2. Remove what depends on columns before the columns change: triggers, indexes, constraints.
    for table in common:
        t, c = target.tables[table], current.tables[table]
        for name in sorted(c.triggers):
            if t.triggers.get(name) != c.triggers[name]:
                out.append(f"DROP TRIGGER {name} ON {table}")
        for name in sorted(c.indexes):
            if t.indexes.get(name) != c.indexes[name]:
                out.append(f"DROP INDEX {name}")
    drops = [
        (table, name, contype)
        for table in common
        for name, (contype, definition) in current.tables[table].constraints.items()
        if target.tables[table].constraints.get(name, ("", ""))[1] != definition
    ]
    # Foreign keys first: a primary key or unique constraint cannot go while a foreign key uses it.
    for table, name, _ in sorted(drops, key=lambda d: (d[2] != "f", d[0], d[1])):
        out.append(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table in gone_tables:
        for name, (kind, _) in sorted(current.tables[table].constraints.items()):
            if kind == "f":
                out.append(f"ALTER TABLE {table} DROP CONSTRAINT {name}")

    # 3. Tables and columns.
    for table in new_tables:
        cols = ",\n    ".join(_column_sql(n, col) for n, col in target.tables[table].columns.items())
        out.append(f"CREATE TABLE {table} (\n    {cols}\n)")
    for table in common:
        t, c = target.tables[table], current.tables[table]
        added = [n for n in t.columns if n not in c.columns]
        removed = [n for n in c.columns if n not in t.columns]
        for name in added:
            col = t.columns[name]
            out.append(f"ALTER TABLE {table} ADD COLUMN {_column_sql(name, col)}")
            if not col.nullable and col.default is None and not col.identity:
                plan.warnings.append(
                    f"{table}.{name} is NOT NULL without a default: applying fails if {table} has rows"
                )
        for name in removed:
            out.append(f"ALTER TABLE {table} DROP COLUMN {name}")
            plan.destructive.append(f"drops column {table}.{name} and its data")
        for a in added:
            for r in removed:
                if t.columns[a].type == c.columns[r].type:
                    plan.warnings.append(
                        f"{table}.{r} dropped and {table}.{a} added with the same type: if this is a rename, "
                        f"edit the revision to use ALTER TABLE {table} RENAME COLUMN {r} TO {a}"
                    )
        for name in sorted(t.columns.keys() & c.columns.keys()):
            tc, cc = t.columns[name], c.columns[name]
            if tc.type != cc.type:
                if cc.default is not None:
                    out.append(f"ALTER TABLE {table} ALTER COLUMN {name} DROP DEFAULT")
                out.append(f"ALTER TABLE {table} ALTER COLUMN {name} TYPE {tc.type} USING {name}::{tc.type}")
                if tc.default is not None:
                    out.append(f"ALTER TABLE {table} ALTER COLUMN {name} SET DEFAULT {tc.default}")
                plan.warnings.append(
                    f"{table}.{name} changes type {cc.type} -> {tc.type}: may rewrite the table"
                )
            elif tc.default != cc.default:
                out.append(
                    f"ALTER TABLE {table} ALTER COLUMN {name} SET DEFAULT {tc.default}"
                    if tc.default is not None
                    else f"ALTER TABLE {table} ALTER COLUMN {name} DROP DEFAULT"
                )
            if tc.nullable != cc.nullable:
                out.append(
                    f"ALTER TABLE {table} ALTER COLUMN {name} {'DROP' if tc.nullable else 'SET'} NOT NULL"
                )
            if (tc.identity, tc.generated) != (cc.identity, cc.generated):
                plan.unrenderable.append(f"column {table}.{name}: identity or generated expression changed")

    # 4. Constraints (keys before the foreign keys that need them), indexes, triggers.
    adds = [
        (table, name, contype, definition)
        for table in sorted(target.tables)
        for name, (contype, definition) in target.tables[table].constraints.items()
        if table in new_tables or current.tables[table].constraints.get(name, ("", ""))[1] != definition
    ]
    order = {"p": 0, "u": 1, "x": 2, "c": 3, "f": 4}
    for table, name, _kind, definition in sorted(adds, key=lambda a: (order.get(a[2], 5), a[0], a[1])):
        out.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for table in sorted(target.tables):
        t = target.tables[table]
        c_indexes = current.tables[table].indexes if table in current.tables else {}
        c_triggers = current.tables[table].triggers if table in current.tables else {}
        for name, definition in sorted(t.indexes.items()):
            if c_indexes.get(name) != definition:
                out.append(definition)
        for name, definition in sorted(t.triggers.items()):
            if c_triggers.get(name) != definition:
                out.append(definition)

    # 5. Whole objects that are gone, dependents first.
    if gone_tables:
        out.append(f"DROP TABLE {', '.join(gone_tables)}")
        plan.destructive += [f"drops table {t} and every row in it" for t in gone_tables]
    for name in sorted(current.enums.keys() - target.enums.keys()):
        out.append(f"DROP TYPE {name}")
    for name in sorted(current.functions.keys() - target.functions.keys()):
        out.append(f"DROP FUNCTION {name}")
    for kind, names in (
        ("view", target.views.keys() ^ current.views.keys()),
        ("sequence", set(target.sequences) ^ set(current.sequences)),
    ):
        for name in sorted(names):
            plan.unrenderable.append(
                f"{kind} {name}: views and sequences are not generated; write them by hand"
            )
    return plan
