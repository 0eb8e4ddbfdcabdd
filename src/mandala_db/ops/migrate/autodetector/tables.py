"""Tables and their columns: created, altered column by column (with the warnings a reviewer needs: a NOT
NULL column without a default, a type change that may rewrite, a drop and add that may be a rename), and
dropped last, dependents first. Views and sequences are reported, not generated."""

from __future__ import annotations

from mandala_db.core.catalog import Column
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides, column_sql, ident
from mandala_db.ops.migrate.model import live_type, rewrites


def create(plan: Plan, sides: Sides) -> None:
    for table in sides.new_tables:
        cols = ",\n    ".join(column_sql(n, col) for n, col in sides.target.tables[table].columns.items())
        plan.statements.append(f"CREATE TABLE {table} (\n    {cols}\n)")


def alter_columns(plan: Plan, sides: Sides) -> None:
    for table in sides.common_tables:
        t, c = sides.target.tables[table], sides.current.tables[table]
        added = [n for n in t.columns if n not in c.columns]
        removed = [n for n in c.columns if n not in t.columns]
        for name in added:
            col = t.columns[name]
            plan.statements.append(f"ALTER TABLE {table} ADD COLUMN {column_sql(name, col)}")
            if not col.nullable and col.default is None and not col.identity:
                plan.warnings.append(
                    f"{table}.{name} is NOT NULL without a default: applying fails if {table} has rows"
                )
        for name in removed:
            plan.statements.append(f"ALTER TABLE {table} DROP COLUMN {ident(name)}")
            plan.destructive.append(f"drops column {table}.{name} and its data")
        for a in added:
            for r in removed:
                if t.columns[a].type == c.columns[r].type:
                    plan.warnings.append(
                        f"{table}.{r} dropped and {table}.{a} added with the same type: if this is a rename, "
                        f"run `migrate dev NAME --rename {table}.{r}={a}` (in steps that keep both names working)"
                    )
        for name in sorted(t.columns.keys() & c.columns.keys()):
            _alter_column(plan, table, name, t.columns[name], c.columns[name])


def _alter_column(plan: Plan, table: str, name: str, tc: Column, cc: Column) -> None:
    out = plan.statements
    if tc.type != cc.type:
        if cc.default is not None:
            out.append(f"ALTER TABLE {table} ALTER COLUMN {ident(name)} DROP DEFAULT")
        # Without USING where PostgreSQL keeps the stored values (varchar growth, varchar to text): a USING
        # clause always rewrites the table.
        rewrite = rewrites(live_type(cc.type), live_type(tc.type))
        using = f" USING {ident(name)}::{tc.type}" if rewrite else ""
        out.append(f"ALTER TABLE {table} ALTER COLUMN {ident(name)} TYPE {tc.type}{using}")
        if tc.default is not None:
            out.append(f"ALTER TABLE {table} ALTER COLUMN {ident(name)} SET DEFAULT {tc.default}")
        if rewrite:
            plan.warnings.append(f"{table}.{name} changes type {cc.type} -> {tc.type}: may rewrite the table")
    elif tc.default != cc.default:
        out.append(
            f"ALTER TABLE {table} ALTER COLUMN {ident(name)} SET DEFAULT {tc.default}"
            if tc.default is not None
            else f"ALTER TABLE {table} ALTER COLUMN {ident(name)} DROP DEFAULT"
        )
    if tc.nullable != cc.nullable:
        out.append(
            f"ALTER TABLE {table} ALTER COLUMN {ident(name)} {'DROP' if tc.nullable else 'SET'} NOT NULL"
        )
    if (tc.identity, tc.generated) != (cc.identity, cc.generated):
        plan.unrenderable.append(f"column {table}.{name}: identity or generated expression changed")


def drop(plan: Plan, sides: Sides) -> None:
    gone = sides.gone_tables
    if gone:
        plan.statements.append(f"DROP TABLE {', '.join(gone)}")
        plan.destructive += [f"drops table {t} and every row in it" for t in gone]


def report_ungenerated(plan: Plan, sides: Sides) -> None:
    target, current = sides.target, sides.current
    for kind, names in (
        ("view", target.views.keys() ^ current.views.keys()),
        ("sequence", set(target.sequences) ^ set(current.sequences)),
    ):
        for name in sorted(names):
            plan.unrenderable.append(
                f"{kind} {name}: views and sequences are not generated; write them by hand"
            )
