"""The proof that an adoption kept every row: per table, the row count and a content checksum over the
mapped columns, read before the conversion over Prisma's columns (through the mapping, so a value that
changes on the way is compared as ours) and after it over ours, in the same transaction. The conversion
commits only when every table's pair is equal."""

from __future__ import annotations

from typing import Any

import psycopg

from mandala_db.core.catalog import Snapshot
from mandala_db.ops.adopt.mapping import quote, value_sql

Proof = dict[str, tuple[int, str]]  # table -> (rows, md5 over the rows in key order)


def _key(columns: list[str]) -> str:
    return "user_id" if "id" not in columns else "id"


def _sum(conn: psycopg.Connection[Any], table: str, values: list[str], key: str) -> tuple[int, str]:
    row_text = "concat_ws('|', " + ", ".join(f"coalesce(({v})::text, '\\N')" for v in values) + ")"
    found = conn.execute(
        f"SELECT count(*), coalesce(md5(string_agg(md5({row_text}), '' ORDER BY {key})), '') FROM {quote(table)}"
    ).fetchone()
    assert found is not None
    return int(found[0]), str(found[1])


def before(conn: psycopg.Connection[Any], live: Snapshot, models: Snapshot) -> Proof:
    out: Proof = {}
    for table in sorted(models.tables.keys() & live.tables.keys()):
        columns = sorted(models.tables[table].columns)
        prisma = live.tables[table].columns
        values = [value_sql(table, c, prisma) or "NULL" for c in columns]
        key = value_sql(table, _key(columns), prisma) or "1"
        out[table] = _sum(conn, table, values, key)
    return out


def after(conn: psycopg.Connection[Any], models: Snapshot, tables: list[str]) -> Proof:
    out: Proof = {}
    for table in tables:
        columns = sorted(models.tables[table].columns)
        out[table] = _sum(conn, table, [quote(c) for c in columns], quote(_key(columns)))
    return out


def differences(first: Proof, second: Proof) -> list[str]:
    return [
        f"{table}: {first[table][0]:,} rows (md5 {first[table][1][:12]}) before, "
        f"{second.get(table, (0, ''))[0]:,} rows (md5 {second.get(table, (0, ''))[1][:12]}) after"
        for table in sorted(first)
        if first[table] != second.get(table)
    ]
