"""Catalog snapshots: an ordered description of every schema object, read from pg_catalog.

A snapshot is what drift detection, `validate`, `migrate dev` and backup manifests compare; its hash is the
schema fingerprint. Definitions come from PostgreSQL's own deparsers (pg_get_constraintdef, pg_get_indexdef,
...) so two schemas that PostgreSQL considers the same produce the same text, however they were written.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core.revision import VERSION_TABLE

# The tool's own bookkeeping lives beside the application tables but is not part of the data model.
INTERNAL_TABLES = (VERSION_TABLE,)
INTERNAL_PREFIX = "mandala_"


def is_internal(table: str) -> bool:
    return table in INTERNAL_TABLES or table.startswith(INTERNAL_PREFIX)


@dataclass
class Column:
    type: str
    nullable: bool
    default: str | None
    identity: str = ""
    generated: str = ""


@dataclass
class Table:
    columns: dict[str, Column] = field(default_factory=dict)
    constraints: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (contype, definition)
    indexes: dict[str, str] = field(default_factory=dict)  # name -> CREATE INDEX statement
    triggers: dict[str, str] = field(default_factory=dict)  # name -> CREATE TRIGGER statement


@dataclass
class Snapshot:
    schema: str
    tables: dict[str, Table] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # "name(args)" -> CREATE FUNCTION statement
    views: dict[str, str] = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {
                name: {
                    "columns": {c: vars(col) for c, col in sorted(t.columns.items())},
                    "constraints": {c: list(v) for c, v in sorted(t.constraints.items())},
                    "indexes": dict(sorted(t.indexes.items())),
                    "triggers": dict(sorted(t.triggers.items())),
                }
                for name, t in sorted(self.tables.items())
            },
            "enums": dict(sorted(self.enums.items())),
            "functions": dict(sorted(self.functions.items())),
            "views": dict(sorted(self.views.items())),
            "sequences": sorted(self.sequences),
        }

    @classmethod
    def from_dict(cls, schema: str, data: dict[str, Any]) -> Snapshot:
        """The inverse of `to_dict` (a snapshot kept as JSON, such as the layout an adoption replaced)."""
        tables = {
            name: Table(
                {c: Column(**col) for c, col in t["columns"].items()},
                {c: (v[0], v[1]) for c, v in t["constraints"].items()},
                dict(t["indexes"]),
                dict(t["triggers"]),
            )
            for name, t in data["tables"].items()
        }
        return cls(schema, tables, {k: list(v) for k, v in data["enums"].items()}, dict(data["functions"]),
                   dict(data["views"]), list(data["sequences"]))  # fmt: skip

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def enum_columns(self, enum: str) -> list[tuple[str, str]]:
        """(table, column) pairs whose type is the enum or an array of it."""
        return [
            (t, c)
            for t, table in sorted(self.tables.items())
            for c, col in sorted(table.columns.items())
            if col.type in (enum, enum + "[]")
        ]


_Q = {
    "tables": """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND c.relkind IN ('r', 'p')""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = %(s)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s""",
    # Indexes that back a primary key, unique or exclusion constraint are part of that constraint.
    "indexes": """
        SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %(s)s AND NOT EXISTS (
            SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')
        )""",
    "enums": """
        SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = %(s)s GROUP BY t.typname""",
    "triggers": """
        SELECT c.relname, tg.tgname, pg_get_triggerdef(tg.oid)
        FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND NOT tg.tgisinternal""",
    "functions": """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = %(s)s AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "views": """
        SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND c.relkind IN ('v', 'm')""",
    "sequences": """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND c.relkind = 'S'""",
}


def _unqualify(sql: str, schema: str) -> str:
    """Deparsers qualify names with their schema; drop it so that the same object compares equal anywhere."""
    quoted = re.escape(schema if re.fullmatch(r"[a-z_][a-z0-9_$]*", schema) else '"' + schema + '"')
    return re.sub(rf"(?<![\w\"'.]){quoted}\.", "", sql)


_WIDTHS = {
    "tables": 1,
    "columns": 7,
    "constraints": 4,
    "indexes": 3,
    "enums": 2,
    "triggers": 3,
    "functions": 2,
    "views": 2,
    "sequences": 1,
}

# Every part of the snapshot in one statement, so `status` pays one round trip for its drift check.
_SNAPSHOT = "SELECT " + ", ".join(
    f"(SELECT coalesce(json_agg(json_build_array({', '.join(f'q.c{i}' for i in range(n))})), '[]'::json) "
    f"FROM ({_Q[name]}) AS q({', '.join(f'c{i}' for i in range(n))}))"
    for name, n in _WIDTHS.items()
)


def snapshot_json_sql(schema_literal: str) -> str:
    """The snapshot query as one JSON array, for a session we cannot pass parameters to (the restore's psql):
    `schema_literal` must already be escaped for a single-quoted literal."""
    return (
        "SELECT json_build_array("
        + _SNAPSHOT.removeprefix("SELECT ").replace("%(s)s", f"'{schema_literal}'")
        + ")"
    )


def take(conn: psycopg.Connection[Any], schema: str = "public") -> Snapshot:
    """Read the snapshot of one schema in a single query."""
    row = conn.execute(_SNAPSHOT, {"s": schema}).fetchone()
    assert row is not None
    return from_parts(list(row), schema)


def from_parts(row: list[Any], schema: str) -> Snapshot:
    """Build the snapshot from the snapshot query's parts.

    Deparsers qualify names that are not on the search_path; `_unqualify` removes the schema's own prefix,
    so the same objects give the same text whichever schema they live in and whatever the search_path.
    """
    snap = Snapshot(schema=schema)
    parts = dict(zip(_WIDTHS, row, strict=True))

    def plain(text: str | None) -> str | None:
        return None if text is None else _unqualify(text, schema)

    for (name,) in parts["tables"]:
        if not is_internal(name):
            snap.tables[name] = Table()
    for table, col, typ, nullable, default, identity, generated in parts["columns"]:
        if table in snap.tables:
            snap.tables[table].columns[col] = Column(
                plain(typ) or "", nullable, plain(default), identity or "", generated or ""
            )
    for table, name, contype, definition in parts["constraints"]:
        if table in snap.tables:
            snap.tables[table].constraints[name] = (contype, _unqualify(definition, schema))
    for table, name, definition in parts["indexes"]:
        if table in snap.tables:
            snap.tables[table].indexes[name] = _unqualify(definition, schema)
    for table, name, definition in parts["triggers"]:
        if table in snap.tables:
            snap.tables[table].triggers[name] = _unqualify(definition, schema)
    for name, labels in parts["enums"]:
        snap.enums[name] = list(labels)
    for name, definition in parts["functions"]:
        snap.functions[_unqualify(name, schema)] = _unqualify(definition, schema).strip()
    for name, definition in parts["views"]:
        snap.views[name] = _unqualify(definition, schema).strip()
    snap.sequences = [name for (name,) in parts["sequences"] if not is_internal(name)]
    return snap


@dataclass(frozen=True)
class Difference:
    kind: str  # table, column, constraint, index, trigger, enum, function, view, sequence
    name: str
    change: str  # missing (in the models, not the database), unexpected (the reverse), changed
    detail: str = ""

    def __str__(self) -> str:
        what = {
            "missing": "in the models but missing from the database",
            "unexpected": "in the database but not in the models",
            "changed": self.detail,
        }[self.change]
        return f"{self.kind} {self.name}: {what}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "change": self.change, "detail": str(self)}


def _compare_named(
    kind: str, expected: dict[str, Any], actual: dict[str, Any], prefix: str = ""
) -> list[Difference]:
    out: list[Difference] = []
    for name in sorted(expected.keys() | actual.keys()):
        label = prefix + name
        if name not in actual:
            out.append(Difference(kind, label, "missing"))
        elif name not in expected:
            out.append(Difference(kind, label, "unexpected"))
        elif expected[name] != actual[name]:
            exp, act = expected[name], actual[name]
            if isinstance(exp, tuple):
                exp, act = exp[1], act[1]
            out.append(Difference(kind, label, "changed", f"database has {act}, the models have {exp}"))
    return out


def compare(expected: Snapshot, actual: Snapshot) -> list[Difference]:
    """Every object that differs, expected being the models (or a recorded state) and actual the database."""
    diffs: list[Difference] = []
    for name in sorted(expected.tables.keys() | actual.tables.keys()):
        if name not in actual.tables:
            diffs.append(Difference("table", name, "missing"))
            continue
        if name not in expected.tables:
            diffs.append(Difference("table", name, "unexpected"))
            continue
        e, a = expected.tables[name], actual.tables[name]
        for col in sorted(e.columns.keys() | a.columns.keys()):
            if col not in a.columns:
                diffs.append(Difference("column", f"{name}.{col}", "missing"))
            elif col not in e.columns:
                diffs.append(Difference("column", f"{name}.{col}", "unexpected"))
            else:
                ec, ac = e.columns[col], a.columns[col]
                parts = []
                if ec.type != ac.type:
                    parts.append(f"type is {ac.type} in the database, {ec.type} in the models")
                if ec.nullable != ac.nullable:
                    parts.append(
                        "nullable in the database, NOT NULL in the models"
                        if ac.nullable
                        else "NOT NULL in the database, nullable in the models"
                    )
                if ec.default != ac.default:
                    parts.append(
                        f"default is {ac.default or 'none'} in the database, {ec.default or 'none'} in the models"
                    )
                if (ec.identity, ec.generated) != (ac.identity, ac.generated):
                    parts.append("identity or generation differs")
                if parts:
                    diffs.append(Difference("column", f"{name}.{col}", "changed", "; ".join(parts)))
        diffs += _compare_named("constraint", e.constraints, a.constraints, f"{name}.")
        diffs += _compare_named("index", e.indexes, a.indexes, f"{name}.")
        diffs += _compare_named("trigger", e.triggers, a.triggers, f"{name}.")
    for name in sorted(expected.enums.keys() | actual.enums.keys()):
        if name not in actual.enums:
            diffs.append(Difference("enum", name, "missing"))
        elif name not in expected.enums:
            diffs.append(Difference("enum", name, "unexpected"))
        elif expected.enums[name] != actual.enums[name]:
            diffs.append(
                Difference(
                    "enum",
                    name,
                    "changed",
                    f"labels are {', '.join(actual.enums[name])} in the database, "
                    f"{', '.join(expected.enums[name])} in the models",
                )
            )
    diffs += _compare_named("function", expected.functions, actual.functions)
    diffs += _compare_named("view", expected.views, actual.views)
    diffs += _compare_named("sequence", {s: s for s in expected.sequences}, {s: s for s in actual.sequences})
    return diffs


def row_estimates(conn: psycopg.Connection[Any], schema: str = "public") -> dict[str, tuple[int, int]]:
    """Estimated rows (the planner's statistics; -1 for a table never vacuumed or analysed) and total size
    in bytes of every table."""
    rows = conn.execute(
        """SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p')""",
        (schema,),
    ).fetchall()
    return {name: (int(est), int(size)) for name, est, size in rows if not is_internal(name)}


def models_snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Build the models in a scratch schema inside a transaction that is always rolled back, and read it.

    The comparison is then between two catalogs of the same server, so types, defaults and deparsed
    definitions are normalised the same way on both sides; nothing is left behind, even if we are killed.
    """
    from mandala_db.schema.ddl import models_ddl

    scratch = f"mandala_models_{uuid.uuid4().hex[:12]}"
    with conn.transaction(force_rollback=True):
        conn.execute(f"CREATE SCHEMA {scratch}")
        conn.execute(f"SET LOCAL search_path TO {scratch}")
        for statement in models_ddl():
            conn.execute(statement.encode())
        snap = take(conn, scratch)
    snap.schema = "models"
    return snap
