"""What the dry run reads from a database Prisma built, changing nothing: which state of the history it is
in, and every row our constraints would reject (CHECKs, NOT NULL, foreign keys where Prisma kept soft
references, unique keys), each kind with its count and a few examples. Our constraints are taken from our
models' own catalog and read over the Prisma columns through the mapping, so the survey cannot drift from
the schema the adoption converts to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core.catalog import Snapshot, Table
from mandala_db.ops.adopt.mapping import prisma_column, quote, source_table, value_sql
from mandala_db.ops.migrate.recipes.steps import uses

LEGACY_LABELS = {
    "TaskType": ["ACTION", "LEARNING", "RESEARCH", "MEETING", "REVIEW"],
    "TaskStatus": ["PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED"],
}
EXAMPLES = 3


@dataclass
class Blocker:
    table: str
    rule: str  # our constraint, as the models declare it
    count: int
    examples: list[str]  # keys of offending rows
    kind: str = "check"  # check, reference, not-null or unique: what `--fix` names
    name: str = ""  # the constraint's (or index's, or column's) name
    where: str = ""  # the offending rows, over the Prisma table's columns
    column: str | None = None  # the Prisma column a clamp or a null would set
    source: str = ""  # the Prisma table holding the rows (our table's name, or its older one)

    def text(self) -> str:
        return f"{self.table}: {self.count:,} row(s) break {self.rule} (e.g. {', '.join(self.examples)})"

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "rule": self.rule, "kind": self.kind, "name": self.name,
                "count": self.count, "examples": self.examples}  # fmt: skip


@dataclass
class Survey:
    state: str  # latest, or the oldest state of the history the database still shows
    facts: list[str] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # our rules that need the state brought forward first

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "facts": self.facts, "blockers": [b.to_dict() for b in self.blockers],
                "unchecked": self.unchecked}  # fmt: skip


def state_of(live: Snapshot, models: Snapshot) -> tuple[str, list[str]]:
    """The history state, read from the catalog: what changed on 2025-11-20 and on 2025-12-11."""
    facts: list[str] = []
    for enum, labels in LEGACY_LABELS.items():
        if live.enums.get(enum) == labels:
            facts.append(f'enum "{enum}" still has the labels before 2025-11-20: {", ".join(labels)}')
    tasks = live.tables.get("tasks")
    if tasks is not None and "estimatedTime" in tasks.columns and "estimatedMinutes" not in tasks.columns:
        facts.append('tasks still has "estimatedTime" (nullable), not "estimatedMinutes" (2025-11-20)')
    reflections = live.tables.get("reflections")
    if reflections is not None and "taskId" in reflections.columns:
        facts.append(
            "reflections is still task-level (taskId): task_reflections and the goal-level reflections came 2025-12-11"
        )
    for table in sorted(models.tables.keys() - live.tables.keys()):
        facts.append(f"table {table} is not there yet")
    others = sorted(live.tables.keys() - models.tables.keys() - {"_prisma_migrations"})
    notes = [f"table {t} is not in our models: the adoption leaves it as it is" for t in others]
    early = any("2025-11-20" in f for f in facts) or {"task_notes", "task_history"} - live.tables.keys()
    state = "before 2025-11-20" if early else ("before 2025-12-11" if facts else "latest")
    return state, facts + notes


def survey(conn: psycopg.Connection[Any], live: Snapshot, models: Snapshot) -> Survey:
    state, facts = state_of(live, models)
    found = Survey(state, facts)
    for table in sorted(models.tables):
        source = source_table(table, live.tables)
        if source is not None:
            _table(conn, found, (table, source), models.tables[table], live.tables[source], live)
    return found


def _table(
    conn: psycopg.Connection[Any],
    found: Survey,
    tables: tuple[str, str],
    ours: Table,
    prisma: Table,
    live: Snapshot,
) -> None:
    table, source = tables  # ours, and the Prisma table holding its rows
    values = {c: value_sql(table, c, prisma.columns) for c in ours.columns}
    key = quote("id" if "id" in prisma.columns else next(iter(prisma.columns)))

    def over(sql: str) -> str | None:
        """Our definition with our columns replaced by their values in the Prisma table."""
        for column in sorted(values, key=len, reverse=True):
            if uses(sql, column):
                if values[column] is None:
                    return None
                value = str(values[column]).replace("\\", "\\\\")  # a replacement string, not a pattern
                sql = re.sub(rf'(?<![\w"]){re.escape(column)}(?![\w"])', value, sql)
        return sql

    def count(kind: str, name: str, rule: str, where: str | None, column: str | None = None) -> None:
        if where is None:
            found.unchecked.append(f"{table}: {rule}")
            return
        rows = conn.execute(f"SELECT {key}::text, count(*) OVER () FROM {quote(source)} WHERE {where} "
                            f"ORDER BY 1 LIMIT {EXAMPLES}").fetchall()  # fmt: skip
        if rows:
            found.blockers.append(Blocker(table, rule, int(rows[0][1]), [r[0] for r in rows], kind, name, where,
                                          prisma_column(table, column, prisma.columns) if column else None, source))  # fmt: skip

    for name, column in ours.columns.items():
        prior = prisma.columns.get(prisma_column(table, name, prisma.columns) or "")
        if not column.nullable and values[name] is not None and prior is not None and prior.nullable:
            count("not-null", name, f"{name} NOT NULL", f"({values[name]}) IS NULL", name)
        if values[name] is not None and prior is not None:
            _narrower(count, name, column.type, prior.type, str(values[name]))
    for cname, (kind, definition) in sorted(ours.constraints.items()):
        if kind == "c":
            expr = over(definition.removeprefix("CHECK ").removesuffix(" NOT VALID"))
            columns = [c for c in ours.columns if uses(definition, c)]
            count("check", cname, f"{cname} {definition}", f"NOT {expr}" if expr else None,
                  columns[0] if len(columns) == 1 else None)  # fmt: skip
        elif kind == "f":
            m = re.fullmatch(r"FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\).*", definition)
            if m and m.group(2) in live.tables:
                local, ref_table, ref_col = m.groups()
                ref = value_sql(ref_table, ref_col, live.tables[ref_table].columns, alias="p")
                mine = values.get(local)
                where = (f"{mine} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {quote(ref_table)} p WHERE {ref} = {mine})"
                         if mine and ref else None)  # fmt: skip
                count("reference", cname, f"{cname} {definition}", where, local)
        elif kind == "u":
            _duplicates(conn, found, tables, cname, f"{cname} {definition}", over(definition.removeprefix("UNIQUE ")),
                        key)  # fmt: skip
    for iname, definition in sorted(ours.indexes.items()):
        m = re.match(r"CREATE UNIQUE INDEX \S+ ON \S+ USING btree \((.*)\)( WHERE .*)?$", definition)
        if m and not m.group(2):
            _duplicates(conn, found, tables, iname, iname, over(f"({m.group(1)})"), key)


def _narrower(count: Any, name: str, ours: str, prisma: str, value: str) -> None:
    """A type ours narrows (integer to smallint, a longer or unbounded text to varchar(n)): the values that
    would not fit, which would otherwise fail the conversion's ALTER ... TYPE."""
    if ours == "smallint" and prisma in ("integer", "bigint"):
        count("check", f"{name}_fits_smallint", f"{name}_fits_smallint CHECK ((({name} >= -32768) AND ({name} <= 32767)))",
              f"NOT (({value}) BETWEEN -32768 AND 32767)", name)  # fmt: skip
    m = re.fullmatch(r"character varying\((\d+)\)", ours)
    wide = re.fullmatch(r"character varying\((\d+)\)", prisma)
    if m and (prisma == "text" or (wide and int(wide.group(1)) > int(m.group(1)))):
        n = m.group(1)
        count("check", f"{name}_fits_varchar_{n}", f"{name}_fits_varchar_{n} CHECK ((length({name}) <= {n}))",
              f"length(({value})::text) > {n}", None)  # fmt: skip


def _duplicates(
    conn: psycopg.Connection[Any],
    found: Survey,
    tables: tuple[str, str],
    name: str,
    rule: str,
    columns: str | None,
    key: str,
) -> None:
    table, source = tables
    if columns is None:
        found.unchecked.append(f"{table}: {rule}")
        return
    group = columns[1:-1]
    rows = conn.execute(
        # A unique key holds any number of rows with a NULL in it: those are no duplicates.
        f"SELECT min({key}::text), count(*) FROM {quote(source)} WHERE ({group}) IS NOT NULL GROUP BY {group} "
        "HAVING count(*) > 1"
    ).fetchall()
    if rows:
        # Every row of a duplicated key but the first (the lowest key): what `--fix unique=archive` moves.
        where = (f"ctid IN (SELECT ctid FROM (SELECT ctid, row_number() OVER (PARTITION BY {group} ORDER BY {key}) "
                 f"AS n FROM {quote(source)} WHERE ({group}) IS NOT NULL) d WHERE n > 1)")  # fmt: skip
        found.blockers.append(Blocker(table, rule, sum(int(r[1]) for r in rows), [r[0] for r in rows[:EXAMPLES]],
                                      "unique", name, where, None, source))  # fmt: skip
