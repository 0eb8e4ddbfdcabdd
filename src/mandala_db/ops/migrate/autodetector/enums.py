"""Enum types: created before the tables that use them, labels added in place, a removal or reordering
either refused (it needs a data mapping only the user can decide) or, when allowed, a rewrite by text
that fails while a row still uses a removed label; dropped after the tables."""

from __future__ import annotations

from mandala_db.core.catalog import Snapshot
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides


def labels(values: list[str]) -> str:
    return ", ".join("'" + label.replace("'", "''") + "'" for label in values)


def create_and_alter(plan: Plan, sides: Sides, *, allow_rewrite: bool) -> None:
    target, current = sides.target, sides.current
    for name in sorted(target.enums.keys() - current.enums.keys()):
        plan.statements.append(f"CREATE TYPE {name} AS ENUM ({labels(target.enums[name])})")
    for name in sorted(target.enums.keys() & current.enums.keys()):
        if target.enums[name] != current.enums[name]:
            sub = enum_steps(
                name, current.enums[name], target.enums[name], target, allow_rewrite=allow_rewrite
            )
            plan.statements += sub.statements
            plan.unrenderable += sub.unrenderable
            plan.destructive += sub.destructive


def drop(plan: Plan, sides: Sides) -> None:
    for name in sorted(sides.current.enums.keys() - sides.target.enums.keys()):
        plan.statements.append(f"DROP TYPE {name}")


def enum_steps(name: str, old: list[str], new: list[str], target: Snapshot, *, allow_rewrite: bool) -> Plan:
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
    plan.statements.append(f"CREATE TYPE {name} AS ENUM ({labels(new)})")
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
