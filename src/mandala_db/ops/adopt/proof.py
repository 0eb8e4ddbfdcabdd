"""The proof that an adoption (or its undo) kept every row, read inside its transaction with every table
locked, two ways:

- a table whose stored values change on the way (an UPDATE, a column added, dropped or retyped) is proved
  by content: the row count and a checksum over the mapped columns, read before over Prisma's columns
  (through the mapping, so a value that changes is compared as ours) and after over ours;
- every other table is only renamed, and is proved by its storage: the same heap file (relfilenode) and
  each of our columns the same attribute (number and type) its Prisma column was. The rows are then the
  same bytes, so reading them twice would prove nothing more; it would only keep writers waiting for as
  long as a million rows take to hash twice (bench/adopt_bench.py).

The conversion commits only when every table's pair is equal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from mandala_db.core.catalog import Snapshot
from mandala_db.ops.adopt.mapping import prisma_column, quote, value_sql

Proof = dict[str, tuple[int, str]]  # table -> (rows, checksum over the rows)
# table -> (relfilenode, our column -> (attnum, type oid))
Storage = dict[str, tuple[int, dict[str, tuple[int, int]]]]

# Statements that change the values a table stores. A type change without USING may or may not rewrite the
# table (a wider timestamp precision does not, integer to smallint does): PostgreSQL decides, and `proved`
# finds out from the storage.
_WRITES = re.compile(r"^(UPDATE|INSERT|DELETE)\b|\b(ADD|DROP) COLUMN\b", re.IGNORECASE)
_RETYPE = re.compile(r"\bALTER COLUMN (\S+) TYPE (.+?) USING (.+)$", re.IGNORECASE | re.DOTALL)


def changing(statements: Iterable[tuple[str, str]]) -> set[str]:
    """The tables whose stored values the (table, SQL) statements change: the ones proved by content. A
    USING that only casts the column to its new type is the default conversion, not a value of our own."""
    out = set()
    for table, sql in statements:
        retype = _RETYPE.search(sql)
        if table and (_WRITES.search(sql) or (retype and retype[3].strip() != f"{retype[1]}::{retype[2]}")):
            out.add(table)
    return out


def checksum(conn: psycopg.Connection[Any], table: str, values: list[str]) -> tuple[int, str]:
    """Count and checksum of the rows' values. The checksum is the sum of a 64-bit hash of each row's text:
    it does not depend on the order of the rows, so nothing is sorted (a fifth of the time of an ordered
    md5 over the same rows)."""
    row_text = "concat_ws('|', " + ", ".join(f"coalesce(({v})::text, '\\N')" for v in values) + ")"
    found = conn.execute(
        f"SELECT count(*), coalesce(sum(hashtextextended({row_text}, 0)::numeric), 0)::text FROM {quote(table)}"
    ).fetchone()
    assert found is not None
    return int(found[0]), str(found[1])


def before(conn: psycopg.Connection[Any], live: Snapshot, models: Snapshot, tables: Iterable[str] | None = None) -> Proof:  # fmt: skip
    out: Proof = {}
    for table in sorted(models.tables.keys() & live.tables.keys() if tables is None else tables):
        columns = sorted(models.tables[table].columns)
        prisma = live.tables[table].columns
        out[table] = checksum(conn, table, [value_sql(table, c, prisma) or "NULL" for c in columns])
    return out


def after(conn: psycopg.Connection[Any], models: Snapshot, tables: list[str]) -> Proof:
    out: Proof = {}
    for table in tables:
        columns = sorted(models.tables[table].columns)
        out[table] = checksum(conn, table, [quote(c) for c in columns])
    return out


def differences(first: Proof, second: Proof) -> list[str]:
    return [
        f"{table}: {first[table][0]:,} rows (checksum {first[table][1][:12]}) before, "
        f"{second.get(table, (0, ''))[0]:,} rows (checksum {second.get(table, (0, ''))[1][:12]}) after"
        for table in sorted(first)
        if first[table] != second.get(table)
    ]


def storage(
    conn: psycopg.Connection[Any], snapshot: Snapshot, models: Snapshot, tables: Iterable[str]
) -> Storage:
    """Each table's heap file and, for each of our columns, the attribute that holds it in `snapshot` (Prisma's
    column before the conversion, ours after it)."""
    out: Storage = {}
    for table in sorted(tables):
        names = {
            ours: prisma_column(table, ours, snapshot.tables[table].columns)
            for ours in models.tables[table].columns
        }
        found = conn.execute(
            """SELECT c.relfilenode, a.attname, a.attnum, a.atttypid FROM pg_class c
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               WHERE c.oid = %s::regclass""",
            (quote(table),),
        ).fetchall()
        attributes = {str(name): (int(num), int(typ)) for _, name, num, typ in found}
        out[table] = (int(found[0][0]) if found else 0,
                      {ours: attributes.get(live or "", (0, 0)) for ours, live in names.items()})  # fmt: skip
    return out


def storage_differences(first: Storage, second: Storage) -> list[str]:
    out = []
    for table in sorted(first):
        (file, columns), (file_after, columns_after) = first[table], second.get(table, (0, {}))
        if file != file_after:
            out.append(f"{table}: its storage was rewritten (relfilenode {file} before, {file_after} after)")
        moved = sorted(c for c in columns if columns[c] != columns_after.get(c) or columns[c] == (0, 0))
        if moved:
            out.append(f"{table}: column(s) {', '.join(moved)} not the same attribute before and after")
    return out


class _Rewritten(Exception):
    def __init__(self, tables: set[str]) -> None:
        super().__init__(", ".join(sorted(tables)))
        self.tables = tables


def proved(
    conn: psycopg.Connection[Any],
    models: Snapshot,
    prisma: Snapshot,
    tables: set[str],
    statements: list[tuple[str, str]],
    apply: Callable[[], None],
    *,
    forward: bool,
) -> tuple[Proof, list[str], list[str]]:
    """`apply()` (the conversion, Prisma's layout to ours when `forward`, else back) between two readings of
    the proof of `tables`, in a savepoint of the caller's transaction. A table PostgreSQL rewrote (or whose
    column changed type in place) where no statement said so is read by content instead, on a second try
    from the savepoint. Returns the content
    proof, the tables proved by storage, and what differs (the caller rolls back when anything does)."""
    moved = changing(statements) & tables
    while True:
        try:
            with conn.transaction():
                first, kept = _read(conn, models, prisma, moved, tables - moved, prisma_side=forward)
                apply()
                second, kept_after = _read(conn, models, prisma, moved, set(kept), prisma_side=not forward)
                rewritten = {t for t in kept if _retyped(kept[t], kept_after[t])}
                if rewritten:
                    raise _Rewritten(rewritten)
                unequal = differences(first, second) + storage_differences(kept, kept_after)
                return first, sorted(kept), unequal
        except _Rewritten as exc:
            moved |= exc.tables


def _retyped(
    first: tuple[int, dict[str, tuple[int, int]]], second: tuple[int, dict[str, tuple[int, int]]]
) -> bool:
    """Rewritten into a new file, or a column of another type in the same bytes: a matter for the content."""
    return first[0] != second[0] or any(
        typ != second[1].get(c, (0, 0))[1] for c, (_, typ) in first[1].items()
    )


def _read(
    conn: psycopg.Connection[Any],
    models: Snapshot,
    prisma: Snapshot,
    moved: set[str],
    kept: set[str],
    *,
    prisma_side: bool,
) -> tuple[Proof, Storage]:
    content = before(conn, prisma, models, moved) if prisma_side else after(conn, models, sorted(moved))
    return content, storage(conn, prisma if prisma_side else models, models, kept)
