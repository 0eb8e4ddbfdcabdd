"""What is known of the schema a plan runs against: its tables with their columns' types, keys, foreign
keys and sizes, its indexes and enums, and which functions are volatile. Read from the live catalog when a
database is at hand, or built by reading the history's own SQL when it is not (`mandala-db lint`); either
way each statement of the plan moves it on (`moves.apply`), so a later statement is judged against the schema the
earlier ones left. A table whose size is not known counts as populated: a rule stays on when in doubt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mandala_db.ops.migrate.statement import read_tables

TypeInfo = tuple[str, tuple[int, ...]]  # (canonical base name, modifiers): ("varchar", (200,))

# Used when no database is at hand to ask pg_proc: the volatile functions a default is usually made of.
KNOWN_VOLATILE = frozenset(
    {"gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1", "uuid_generate_v1mc", "random",
     "clock_timestamp", "timeofday", "nextval", "txid_current", "pg_current_xact_id", "setseed",
     "random_normal", "uuidv7", "uuidv4"}
)  # fmt: skip

_CANONICAL = {
    "character varying": "varchar", "int4": "integer", "int": "integer", "int8": "bigint", "int2": "smallint",
    "decimal": "numeric", "bool": "boolean", "float8": "double precision", "float4": "real",
    "timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone",
    "character": "bpchar", "char": "bpchar", "bit varying": "varbit", "serial4": "serial", "serial8": "bigserial",
    "serial2": "smallserial", "timetz": "time with time zone", "time": "time without time zone",
}  # fmt: skip

SERIAL_TYPES = {"serial", "bigserial", "smallserial"}


def type_of(type_name: Any) -> TypeInfo:
    """A parse tree's TypeName as (base, modifiers)."""
    names = [n.sval for n in type_name.names if n.sval != "pg_catalog"]
    mods = tuple(m.val.ival for m in type_name.typmods or () if hasattr(getattr(m, "val", None), "ival"))
    base = _CANONICAL.get(names[-1], names[-1])
    return base + ("[]" if type_name.arrayBounds else ""), mods


def live_type(text: str) -> TypeInfo:
    """format_type's text, e.g. `character varying(200)` or `numeric(10,2)`, as (base, modifiers)."""
    m = re.fullmatch(r"(.+?)(?:\(([\d,\s]+)\))?(\[\])?", text.strip())
    if not m:
        return text, ()
    base = _CANONICAL.get(m.group(1), m.group(1)) + (m.group(3) or "")
    return base, tuple(int(x) for x in (m.group(2) or "").split(",") if x.strip())


def shown(t: TypeInfo | None) -> str:
    if t is None:
        return "its type"
    return t[0] + (f"({','.join(map(str, t[1]))})" if t[1] else "")


def rewrites(old: TypeInfo, new: TypeInfo) -> bool:
    """Whether ALTER COLUMN TYPE (without USING) rewrites the table: not when the new type is binary
    coercible from the old and no stored value could need to change (PostgreSQL skips the rewrite)."""
    (ob, om), (nb, nm) = (old[0], tuple(old[1])), (new[0], tuple(new[1]))
    if (ob, om) == (nb, nm):
        return False
    if ob in ("varchar", "text", "bpchar") and nb == "text":
        return False
    if ob in ("varchar", "text") and nb == "varchar":
        return not (not nm or (ob == "varchar" and bool(om) and nm[0] >= om[0]))
    if ob == "numeric" and nb == "numeric":
        if not nm:
            return False
        # A higher precision with the same scale keeps every stored value as it is.
        scale_old = om[1] if len(om) == 2 else 0
        scale_new = nm[1] if len(nm) == 2 else 0
        return not (bool(om) and scale_new == scale_old and nm[0] >= om[0])
    if ob == "varbit" and nb == "varbit":
        return not (not nm or (bool(om) and nm[0] >= om[0]))
    if ob in ("timestamp without time zone", "timestamp with time zone") and nb == ob:
        return bool(nm) and (not om or nm[0] < om[0])
    return True


@dataclass
class TableModel:
    columns: dict[str, TypeInfo | None] = field(default_factory=dict)  # None: the type is not known
    keys: set[str] = field(default_factory=set)  # columns unique on their own (primary key, unique)
    not_null: set[str] = field(default_factory=set)
    checked_not_null: set[str] = field(default_factory=set)  # a validated CHECK (col IS NOT NULL)
    not_valid: dict[str, str | None] = field(default_factory=dict)  # constraint added NOT VALID -> its column
    validated_unknown: set[str] = field(default_factory=set)  # constraints validated that the model never saw
    foreign_keys: dict[str, tuple[tuple[str, ...], str]] = field(
        default_factory=dict
    )  # name -> (cols, table)
    live_name: str | None = None  # the name the live database knows it by, for its size
    created: bool = False  # created by the plan (or the files linted): empty when it starts


@dataclass
class SchemaModel:
    tables: dict[str, TableModel] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # index -> its table
    index_columns: dict[str, list[str]] = field(default_factory=dict)  # index -> its plain columns
    enums: dict[str, list[str]] = field(default_factory=dict)
    existing_enums: set[str] = field(
        default_factory=set
    )  # enums there before the plan (their rows may use them)
    views: dict[str, set[str]] = field(default_factory=dict)  # view or materialized view -> tables it reads
    is_volatile: Callable[[str], bool] = KNOWN_VOLATILE.__contains__
    rows_of: Callable[[str], int | None] | None = None  # live row estimates; None: sizes are not known
    schema: str = "public"  # the schema the unqualified names are in
    complete: bool = False  # every table is known (a live catalog): a table not in it does not exist

    def rows(self, table: str) -> int | None:
        """Estimated rows; 0 for a table the plan created; None when not known (counts as populated)."""
        t = self.tables.get(table)
        if t is not None and t.created:
            return 0
        if self.rows_of is None:
            return None if (t is not None or not self.complete) else 0
        return self.rows_of(t.live_name if t is not None and t.live_name else table) or 0

    def populated(self, table: str) -> bool:
        rows = self.rows(table)
        return rows is None or rows > 0

    def size(self, table: str) -> str:
        rows = self.rows(table)
        return f"~{rows:,} rows" if rows is not None else "unknown size"

    def referencing(self, table: str) -> list[str]:
        """Tables with a foreign key to this one."""
        return sorted(n for n, t in self.tables.items() if n != table and any(
            ref == table for _, ref in t.foreign_keys.values()
        ))  # fmt: skip

    def dependent_views(self, table: str) -> list[str]:
        return sorted(v for v, sources in self.views.items() if table in sources)

    def column_type(self, table: str, column: str) -> TypeInfo | None:
        t = self.tables.get(table)
        return t.columns.get(column) if t is not None else None


_KEY = re.compile(r"(?:PRIMARY KEY|UNIQUE) \((\w+|\"[^\"]+\")\)")
_FK = re.compile(r"FOREIGN KEY \(([^)]*)\) REFERENCES (?:\w+\.)?(\"[^\"]+\"|\w+)")
_NOT_NULL_CHECK = re.compile(r"CHECK \(\(?\"?(\w+)\"? IS NOT NULL\)?\)$")


def from_catalog(snapshot: Any, rows_of: Callable[[str], int | None], is_volatile: Callable[[str], bool],
                 index_tables: dict[str, str]) -> SchemaModel:  # fmt: skip
    """The live schema, from a catalog snapshot (core/catalog) and the database's row estimates."""
    from pglast import parse_sql

    model = SchemaModel(
        indexes=dict(index_tables),
        enums={k: list(v) for k, v in snapshot.enums.items()},
        existing_enums=set(snapshot.enums),
        is_volatile=is_volatile,
        rows_of=rows_of,
        schema=snapshot.schema,
        complete=True,
    )
    for name, definition in snapshot.views.items():
        try:
            model.views[name] = read_tables(parse_sql(definition)[0].stmt)
        except Exception:
            model.views[name] = set()
    for name, table in snapshot.tables.items():
        t = TableModel(live_name=name)
        for column, col in table.columns.items():
            t.columns[column] = live_type(col.type)
            if not col.nullable:
                t.not_null.add(column)
        for conname, (contype, definition) in table.constraints.items():
            if contype in ("p", "u") and (m := _KEY.match(definition)):
                t.keys.add(m.group(1).strip('"'))
            elif contype == "f" and (m := _FK.match(definition)):
                cols = tuple(c.strip().strip('"') for c in m.group(1).split(","))
                t.foreign_keys[conname] = (cols, m.group(2).strip('"'))
            elif contype == "c" and definition.endswith(" NOT VALID"):
                m = _NOT_NULL_CHECK.match(definition.removesuffix(" NOT VALID"))
                t.not_valid[conname] = m.group(1) if m else None
            elif contype == "c" and (m := _NOT_NULL_CHECK.match(definition)):
                t.checked_not_null.add(m.group(1))
        model.tables[name] = t
    return model


# -- moving the model on, statement by statement -----------------------------------------------------------
