"""`adopt prisma --fix SPEC`: what to do with the rows our constraints reject, named by the user, never
guessed. SPEC is `WHAT=ACTION`, several joined by commas or given as several `--fix`; WHAT is a kind of rule
(`check`, `reference`, `not-null`, `unique`), a rule's own name as the dry run prints it
(`ck_goals_progress_range`), or `all`; the most specific one wins. The actions:

- `clamp`: a number outside a CHECK's range set to the nearest bound (only for a range over one column:
  `progress` 150 becomes 100, `estimated_minutes` 0 becomes 1);
- `null`: a reference that points nowhere set to NULL (only where our column may be NULL);
- `archive`: the row moved, whole, as JSON, into `adopt_rejected` in the archive schema, with its table
  and the rule it broke (for a duplicated key, every row but the first by key). A row other rows refer to
  is not archived: deleting it would take them with it through Prisma's cascades; the fix refuses, naming
  them.

The fixes run inside the adoption's transaction, before the proof is read, and each is checked to have
left no offending row: a kill or a failure anywhere gives every row back as it was."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from mandala_db.core.catalog import Snapshot
from mandala_db.core.errors import BadInput, CheckFailed
from mandala_db.ops.adopt.mapping import quote, source_table, value_sql
from mandala_db.ops.adopt.survey import Blocker

KINDS = ("check", "reference", "not-null", "unique")
ACTIONS = {"clamp": ("check",), "null": ("reference",), "archive": KINDS}
REJECTED = "adopt_rejected"  # in the archive schema


@dataclass
class Fixed:
    table: str
    rule: str
    action: str
    rows: int

    def text(self) -> str:
        verb = {
            "clamp": "clamped to the range",
            "null": "reference set to NULL",
            "archive": "moved to the archive",
        }
        return f"{self.table}: {self.rows:,} row(s) breaking {self.rule}: {verb[self.action]}"

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "rule": self.rule, "action": self.action, "rows": self.rows}


def parse(specs: list[str]) -> dict[str, str]:
    """`check=clamp,reference=archive` (and more `--fix`) -> {what: action}."""
    out: dict[str, str] = {}
    for part in (p.strip() for spec in specs for p in spec.split(",")):
        what, sep, action = part.partition("=")
        if not sep or not what or action not in ACTIONS:
            raise BadInput(
                f"--fix {part!r}: expected WHAT=ACTION with ACTION one of {', '.join(ACTIONS)}",
                "e.g. --fix check=clamp,reference=archive (WHAT: check, reference, not-null, unique, all, or a "
                "rule's name from `adopt prisma --dry-run`)",
            )
        out[what.strip()] = action
    return out


def action_for(blocker: Blocker, fixes: dict[str, str]) -> str | None:
    return fixes.get(blocker.name) or fixes.get(blocker.kind) or fixes.get("all")


def problems(blockers: list[Blocker], fixes: dict[str, str], models: Snapshot) -> list[str]:
    """Why the fixes chosen cannot make these rows fit (empty: they can), before anything is locked."""
    out = []
    for b in blockers:
        action = action_for(b, fixes)
        if action is None:
            out.append(f"{b.text()}: no --fix names it (its kind: {b.kind}, its name: {b.name})")
        elif b.kind not in ACTIONS[action]:
            out.append(f"{b.table} {b.name}: {action} does not apply to a {b.kind} rule; use archive")
        elif action == "clamp" and _bounds(b) is None:
            out.append(
                f"{b.table} {b.name}: not a range over one column, so there is nothing to clamp to; use archive"
            )
        elif action == "null" and not _nullable(b, models):
            out.append(f"{b.table} {b.name}: our column is NOT NULL, so the reference cannot be set to NULL; "
                       "use archive")  # fmt: skip
    return out


def _nullable(b: Blocker, models: Snapshot) -> bool:
    m = re.match(r".* FOREIGN KEY \((\w+)\)", b.rule)
    column = models.tables[b.table].columns.get(m.group(1)) if m else None
    return column is not None and column.nullable


def _bounds(b: Blocker) -> tuple[int | None, int | None] | None:
    """The range a CHECK allows its one column, from comparisons joined by AND; None when it says more."""
    if b.kind != "check" or b.column is None:
        return None
    body = b.rule.split(" ", 1)[1].removeprefix("CHECK ")
    comparisons = re.findall(r'\(*"?\w+"?\s*(>=|<=|>|<)\s*\(?(-?\d+)\)?\)*', body)
    rest = re.sub(r'\(*"?\w+"?\s*(>=|<=|>|<)\s*\(?(-?\d+)\)?\)*|\bAND\b|[()\s]', "", body)
    if not comparisons or rest:
        return None
    low: int | None = None
    high: int | None = None
    for op, number in comparisons:
        n = int(number)
        if op in (">=", ">"):
            n += op == ">"
            low = n if low is None else max(low, n)
        else:
            n -= op == "<"
            high = n if high is None else min(high, n)
    return low, high


def apply(
    conn: psycopg.Connection[Any], blockers: list[Blocker], fixes: dict[str, str], live: Snapshot, models: Snapshot,
    archive: str,
) -> list[Fixed]:  # fmt: skip
    """Every fix, in the caller's transaction (the tables locked), each checked to have left no offending row."""
    done = []
    for b in blockers:
        action = action_for(b, fixes)
        assert action is not None
        table = quote(b.source or b.table)
        if action == "clamp":
            low, high = _bounds(b) or (None, None)
            value = quote(b.column or "")
            if low is not None:
                value = f"greatest({value}, {low})"
            if high is not None:
                value = f"least({value}, {high})"
            rows = conn.execute(
                f"UPDATE {table} SET {quote(b.column or '')} = {value} WHERE {b.where}"
            ).rowcount
        elif action == "null":
            rows = conn.execute(f"UPDATE {table} SET {quote(b.column or '')} = NULL WHERE {b.where}").rowcount
        else:
            _referenced(conn, b, live, models)
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(archive)}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {quote(archive)}.{REJECTED} (table_name text NOT NULL, "
                         "rule text NOT NULL, row jsonb NOT NULL, archived_at timestamptz NOT NULL DEFAULT now())")  # fmt: skip
            rows = conn.execute(
                f"WITH gone AS (DELETE FROM {table} WHERE {b.where} RETURNING *) "
                f"INSERT INTO {quote(archive)}.{REJECTED} (table_name, rule, row) "
                "SELECT %s, %s, to_jsonb(gone) FROM gone",
                (b.table, b.rule),
            ).rowcount
        left = conn.execute(f"SELECT count(*) FROM {table} WHERE {b.where}").fetchone()
        if left is None or left[0]:
            raise CheckFailed(f"{b.table}: {left[0] if left else '?'} row(s) still break {b.name} after --fix "
                              f"{action}, so nothing was changed", "run `adopt prisma --dry-run` again")  # fmt: skip
        done.append(Fixed(b.table, b.rule, action, rows))
    return done


def _referenced(conn: psycopg.Connection[Any], b: Blocker, live: Snapshot, models: Snapshot) -> None:
    """Refuses to archive rows that rows of another table refer to (by our foreign keys, read over Prisma's
    columns): the delete would cascade to them, or leave them pointing nowhere."""
    for table, t in sorted(models.tables.items()):
        source = source_table(table, live.tables)
        if source is None:
            continue
        for _, (kind, definition) in sorted(t.constraints.items()):
            m = re.fullmatch(r"FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\).*", definition)
            if kind != "f" or not m or m.group(2) != b.table:
                continue
            mine = value_sql(table, m.group(1), live.tables[source].columns, alias="r")
            theirs = value_sql(b.table, m.group(3), live.tables[b.source or b.table].columns)
            if mine is None or theirs is None:
                continue
            found = conn.execute(f"SELECT count(*) FROM {quote(source)} r WHERE {mine} IN "
                                 f"(SELECT {theirs} FROM {quote(b.source or b.table)} WHERE {b.where})").fetchone()  # fmt: skip
            if found and found[0]:
                raise CheckFailed(
                    f"--fix archive for {b.table} {b.name}: {found[0]:,} row(s) of {table} refer to the rows it "
                    "would move, and would go with them; nothing was changed",
                    f"fix those rows of {b.table} another way (clamp), or fix {table} first",
                )
