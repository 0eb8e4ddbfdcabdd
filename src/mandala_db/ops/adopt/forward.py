"""An older state of the team's Prisma history brought forward to the latest (2025-12-11), in Prisma's own
layout, before the adoption converts it (../shared/spec/prisma-database.md, "history"):

- 2025-11-20: `TaskType` ACTION, LEARNING, RESEARCH, MEETING, REVIEW became EXECUTION, HABIT and
  `TaskStatus` PENDING, IN_PROGRESS, COMPLETED, CANCELLED became NOT_STARTED, IN_PROGRESS, COMPLETED,
  SKIPPED: each column moved to a new type with the mapping our own revision 20250212000000_task_management
  uses (REVIEW -> HABIT, the rest -> EXECUTION; PENDING -> NOT_STARTED, CANCELLED -> SKIPPED), in one
  ALTER TABLE so that `tasks` is rewritten once; `tasks."estimatedTime"` (nullable integer) became
  `"estimatedMinutes"` (smallint, NOT NULL; a missing estimate is 30 minutes, as in that revision);
- 2025-12-11: the task-level `reflections` became `task_reflections` (a rename: the same rows).

What came with those dates and holds no existing row (tasks.deadline, the wider title, task_notes,
task_history, saved_views, the goal-level reflections) is left to the conversion, which adds it as it adds
anything our models have and the database lacks. The step is proved like the conversion: per table it
touches, the count and checksum of the rows read through these mappings before equal those of the rows
brought forward."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core.catalog import Column, Snapshot
from mandala_db.ops.adopt.mapping import quote
from mandala_db.ops.adopt.proof import Proof, checksum

# enum -> (its labels now, each old label's new one (the others keep theirs), the labels before)
ENUMS = {
    "TaskType": (["EXECUTION", "HABIT"], {"REVIEW": "HABIT", "*": "EXECUTION"},
                 ["ACTION", "LEARNING", "RESEARCH", "MEETING", "REVIEW"]),
    "TaskStatus": (["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "SKIPPED"], {"PENDING": "NOT_STARTED", "CANCELLED": "SKIPPED"},
                   ["PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED"]),
}  # fmt: skip
ESTIMATE = ("tasks", "estimatedTime", "estimatedMinutes", "coalesce(@, 30)")  # table, before, after, value
TASK_LEVEL = ("reflections", "task_reflections")  # the task-level table, before and after 2025-12-11


def label_sql(enum: str, ref: str) -> str:
    """The new label of the old one in `ref`, as text."""
    mapping = ENUMS[enum][1]
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items() if old != "*")
    return f"CASE {ref}::text {cases} ELSE {repr(mapping['*']) if '*' in mapping else ref + '::text'} END"


def _legacy(live: Snapshot) -> list[str]:
    return [e for e, (_, _, before) in ENUMS.items() if live.enums.get(e) == before]


@dataclass
class Forward:
    statements: list[tuple[str, str]] = field(default_factory=list)  # (table, SQL), in order
    # the table brought forward -> (its name before, its column -> SQL giving its value over the table before)
    values: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def before(self, conn: psycopg.Connection[Any]) -> Proof:
        return {
            t: checksum(conn, old, [sql for _, sql in sorted(cols.items())])
            for t, (old, cols) in self.values.items()
        }

    def after(self, conn: psycopg.Connection[Any]) -> Proof:
        return {
            t: checksum(conn, t, [quote(c) for c in sorted(cols)]) for t, (_, cols) in self.values.items()
        }


def forward(live: Snapshot) -> Forward:
    """The statements that bring `live` to the latest state, and how its rows read before and after."""
    out = Forward()
    enums = _legacy(live)
    users = {e: [(t, c) for t, table in sorted(live.tables.items()) for c, col in table.columns.items()
                 if col.type.strip('"') == e] for e in enums}  # fmt: skip
    changes: dict[str, list[str]] = {}  # table -> the clauses of its one ALTER TABLE
    defaults: list[tuple[str, str]] = []
    for enum in enums:
        labels = ", ".join(f"'{x}'" for x in ENUMS[enum][0])
        out.statements.append(("", f"ALTER TYPE {quote(enum)} RENAME TO {quote(enum + '_legacy')}"))
        out.statements.append(("", f"CREATE TYPE {quote(enum)} AS ENUM ({labels})"))
        for table, column in users[enum]:
            col = live.tables[table].columns[column]
            if col.default:
                out.statements.append(
                    (table, f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} DROP DEFAULT")
                )
                old = col.default.split("'")[1]
                defaults.append((table, f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET DEFAULT "
                                        f"'{ENUMS[enum][1].get(old, ENUMS[enum][1].get('*', old))}'"))  # fmt: skip
            changes.setdefault(table, []).append(
                f"ALTER COLUMN {quote(column)} TYPE {quote(enum)} USING ({label_sql(enum, quote(column))})::{quote(enum)}"
            )
            _value(out, live, table, column, label_sql(enum, quote(column)))
    tasks, before, after, value = ESTIMATE
    estimate = _estimate_before(live)
    if estimate:
        changes.setdefault(tasks, []).extend([
            f"ALTER COLUMN {quote(before)} TYPE smallint USING {value.replace('@', quote(before))}",
            f"ALTER COLUMN {quote(before)} SET NOT NULL",
        ])  # fmt: skip
        _value(out, live, tasks, before, value.replace("@", quote(before)), after)
    for table, clauses in sorted(changes.items()):
        out.statements.append((table, f"ALTER TABLE {quote(table)} " + ", ".join(clauses)))
    out.statements += defaults
    out.statements += [("", f"DROP TYPE {quote(e + '_legacy')}") for e in enums]
    if estimate:
        out.statements.append(
            (tasks, f"ALTER TABLE {quote(tasks)} RENAME COLUMN {quote(before)} TO {quote(after)}")
        )
    old, new = TASK_LEVEL
    if old in live.tables and "taskId" in live.tables[old].columns and new not in live.tables:
        out.statements.append((new, f"ALTER TABLE {quote(old)} RENAME TO {quote(new)}"))
        out.values[new] = (old, {c: quote(c) for c in live.tables[old].columns})
    return out


def _estimate_before(live: Snapshot) -> bool:
    table, before, after, _ = ESTIMATE
    t = live.tables.get(table)
    return t is not None and before in t.columns and after not in t.columns


def _value(
    out: Forward, live: Snapshot, table: str, column: str, sql: str, renamed: str | None = None
) -> None:
    _, values = out.values.setdefault(table, (table, {c: quote(c) for c in live.tables[table].columns}))
    if renamed:
        values.pop(column)
    values[renamed or column] = sql


def simulate(live: Snapshot) -> Snapshot:
    """`live` as `forward`'s statements leave it, in memory: what the dry run plans the conversion from."""
    sim = copy.deepcopy(live)
    for enum in _legacy(live):
        sim.enums[enum] = list(ENUMS[enum][0])
        for each in sim.tables.values():
            for col in each.columns.values():
                if col.type.strip('"') == enum and col.default:
                    old = col.default.split("'")[1]
                    new = ENUMS[enum][1].get(old, ENUMS[enum][1].get("*", old))
                    col.default = f"'{new}'::{quote(enum)}"
    table, before, after, _ = ESTIMATE
    if _estimate_before(live):
        t = sim.tables[table]
        t.columns = {(after if c == before else c): (Column("smallint", False, None) if c == before else v)
                     for c, v in t.columns.items()}  # fmt: skip
    old, new = TASK_LEVEL
    if old in sim.tables and "taskId" in sim.tables[old].columns and new not in sim.tables:
        t = sim.tables.pop(old)
        t.indexes = {n: d.replace(f" ON {old} ", f" ON {new} ") for n, d in t.indexes.items()}
        sim.tables[new] = t
    return sim


__all__ = ["Forward", "forward", "simulate"]
