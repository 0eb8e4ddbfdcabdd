"""The conversion of a Prisma-built database into ours, planned from the two catalogs: first what only the
catalog holds (enum types and columns renamed, a few values mapped on the way), simulated on the live
snapshot in memory; then the Prisma constraint and index names matched to ours by definition and renamed
(a unique index becomes our unique constraint `USING INDEX`); and what is still missing or extra (defaults,
the updated_at trigger, CHECKs, foreign keys, redundant indexes) from the autodetector over the renamed
snapshot, with CHECKs and foreign keys added `NOT VALID` and validated after the commit, one transaction
each, so writers wait only for the catalog changes."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from mandala_db.core.catalog import Snapshot, Table
from mandala_db.ops.adopt.mapping import NAMES, TRANSFORMS, prisma_column, quote, snake
from mandala_db.ops.migrate.autodetector import diff
from mandala_db.ops.migrate.recipes.steps import uses

# A column Prisma's database does not have and that is derived from another one (added, then filled).
DERIVED = {("habit_task_reminder_tracking", "iso_year")}
# Columns whose type changes on the way (the rest keep theirs).
RETYPED = {("workflow_executions", "expires_at"): "timestamp with time zone"}


@dataclass
class Conversion:
    statements: list[tuple[str, str]] = field(default_factory=list)  # (table, SQL), in order: one transaction
    validations: list[str] = field(default_factory=list)  # after the commit, each its own transaction
    unrenderable: list[str] = field(default_factory=list)

    def by_table(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for table, sql in self.statements:
            out.setdefault(table, []).append(sql)
        return out


def _ident(name: str) -> re.Pattern[str]:
    """A name as the deparser writes it: quoted when it needs to be, bare otherwise."""
    return re.compile(rf'"{re.escape(name)}"|(?<![\w"]){re.escape(name)}(?![\w"])')


def _rename_everywhere(snap: Snapshot, table: str | None, old: str, new: str) -> None:
    """`old` renamed to `new` in every definition of one table (a column) or of the whole snapshot (a type)."""
    pattern = _ident(old)
    tables = [snap.tables[table]] if table else list(snap.tables.values())
    for t in tables:
        for col in t.columns.values() if table is None else ():  # a type's name: in column types and defaults
            col.type = pattern.sub(new, col.type)
            if col.default:
                col.default = pattern.sub(new, col.default)
        t.constraints = {n: (k, _local(pattern, new, d, k) if table else pattern.sub(new, d))
                         for n, (k, d) in t.constraints.items()}  # fmt: skip
        t.indexes = {n: _on(pattern, new, d) for n, d in t.indexes.items()}
    if table:  # foreign keys elsewhere that point at this column
        ref = re.compile(rf"(REFERENCES {re.escape(table)}\()([^)]*)\)")
        for t in snap.tables.values():
            t.constraints = {n: (k, ref.sub(lambda m: m.group(1) + pattern.sub(new, m.group(2)) + ")", d))
                             for n, (k, d) in t.constraints.items()}  # fmt: skip


def _local(pattern: re.Pattern[str], new: str, definition: str, kind: str) -> str:
    """A column renamed in its own table's constraint: a foreign key's referenced columns are another table's."""
    if kind == "f":
        head, sep, tail = definition.partition(" REFERENCES ")
        return pattern.sub(new, head) + sep + tail
    return pattern.sub(new, definition)


def _on(pattern: re.Pattern[str], new: str, index_sql: str) -> str:
    head, sep, tail = index_sql.partition(" USING ")
    return head + sep + pattern.sub(new, tail)


def plan(live: Snapshot, models: Snapshot) -> Conversion:
    out = Conversion()
    sim = copy.deepcopy(live)
    # What is not ours (Prisma's ledger, a table or function of the team's own) is left as it is: the
    # autodetector would drop it.
    sim.tables = {t: v for t, v in sim.tables.items() if t in models.tables}
    sim.functions = {f: v for f, v in sim.functions.items() if f in models.functions}
    # 1. Enum types: Prisma's PascalCase names to ours.
    for enum in sorted(live.enums):
        ours = snake(enum)
        if ours != enum:
            out.statements.append(("", f"ALTER TYPE {quote(enum)} RENAME TO {ours}"))
            sim.enums[ours] = sim.enums.pop(enum)
            _rename_everywhere(sim, None, enum, ours)
    # 2. Columns: renamed (catalog only), the few derived or mapped ones filled.
    for table in sorted(models.tables.keys() & sim.tables.keys()):
        _columns(out, sim, table, models.tables[table], live.tables[table])
    # 3. Prisma's constraint and index names to ours, matched by definition.
    for table in sorted(models.tables.keys() & sim.tables.keys()):
        _names(out, table, models.tables[table], sim.tables[table])
    # 4. The rest, as migrate dev would write it; CHECKs and foreign keys NOT VALID, validated after.
    rest = diff(models, sim)
    out.unrenderable += rest.unrenderable
    for sql in rest.statements:
        m = re.match(r"ALTER TABLE (\w+) ADD CONSTRAINT (\w+) (CHECK|FOREIGN KEY) ", sql)
        if m:
            out.statements.append((m.group(1), sql + " NOT VALID"))
            out.validations.append(f"ALTER TABLE {m.group(1)} VALIDATE CONSTRAINT {m.group(2)}")
        else:
            out.statements.append((_table_of(sql), sql))
    return out


def _table_of(sql: str) -> str:
    m = re.match(
        r"ALTER TABLE (\w+)|DROP INDEX \w+|CREATE (?:UNIQUE )?INDEX \w+ ON (\w+)|CREATE TRIGGER \w+ .*? ON (\w+)",
        sql,
        re.S,
    )
    return next((g for g in (m.groups() if m else ()) if g), "")


def _columns(out: Conversion, sim: Snapshot, table: str, ours: Table, prisma: Table) -> None:
    t = sim.tables[table]
    for column in ours.columns:
        if (table, column) in DERIVED:
            continue
        source = prisma_column(table, column, prisma.columns)
        if source is None or source == column:
            continue
        out.statements.append((table, f"ALTER TABLE {table} RENAME COLUMN {quote(source)} TO {column}"))
        t.columns[column] = t.columns.pop(source)
        _rename_everywhere(sim, table, source, column)
    for column in ours.columns:
        transform = TRANSFORMS.get((table, column))
        if transform is None:
            continue
        if (table, column) in DERIVED:
            source = _ours_for(table, NAMES[(table, column)], ours, prisma)
            out.statements.append(
                (table, f"ALTER TABLE {table} ADD COLUMN {column} {ours.columns[column].type}")
            )
            out.statements.append((table, f"UPDATE {table} SET {column} = {transform.replace('@', source)}"))
            t.columns[column] = copy.deepcopy(ours.columns[column])
            t.columns[column].nullable, t.columns[column].default = True, None
        elif (table, column) in RETYPED:
            new_type = RETYPED[(table, column)]
            out.statements.append((table, f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {new_type} "
                                          f"USING {transform.replace('@', column)}"))  # fmt: skip
            t.columns[column].type = new_type
        else:
            where = {"task_ids": f"{column} IS NULL", "entity_type": f"{column} = 'subgoal'"}.get(
                column, f"{column} IS DISTINCT FROM {transform.replace('@', column)}"
            )
            out.statements.append(
                (table, f"UPDATE {table} SET {column} = {transform.replace('@', column)} WHERE {where}")
            )


def _ours_for(table: str, prisma_name: str, ours: Table, prisma: Table) -> str:
    """Our name of the column that Prisma calls `prisma_name` (after the renames)."""
    for column in ours.columns:
        if (table, column) not in DERIVED and prisma_column(table, column, prisma.columns) == prisma_name:
            return column
    return prisma_name


def _names(out: Conversion, table: str, ours: Table, t: Table) -> None:
    def body(index_sql: str) -> str:
        return index_sql.partition(" ON ")[2]

    for name, (kind, definition) in sorted(ours.constraints.items()):
        if name in t.constraints:
            continue
        if kind == "p":
            old = next((n for n, (k, d) in t.constraints.items() if k == "p" and d == definition), None)
            if old:
                out.statements.append(
                    (table, f"ALTER TABLE {table} RENAME CONSTRAINT {quote(old)} TO {name}")
                )
                t.constraints[name] = t.constraints.pop(old)
        elif kind == "u":
            wanted = f"{table} USING btree {definition.removeprefix('UNIQUE ')}"
            old = next(
                (
                    n
                    for n, d in t.indexes.items()
                    if d.startswith("CREATE UNIQUE INDEX") and body(d) == wanted
                ),
                None,
            )
            if old:
                out.statements.append(
                    (table, f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {quote(old)}")
                )
                t.indexes.pop(old)
                t.constraints[name] = (kind, definition)
    for name, definition in sorted(ours.indexes.items()):
        if name in t.indexes:
            continue
        old = next((n for n, d in t.indexes.items() if body(d) == body(definition) and d.split(" ON ")[0].split()[1] ==
                    definition.split(" ON ")[0].split()[1] and n not in ours.indexes), None)  # fmt: skip
        if old:
            out.statements.append((table, f"ALTER INDEX {quote(old)} RENAME TO {name}"))
            t.indexes[name] = definition
            t.indexes.pop(old)


# Our column -> the SQL that gives Prisma's value back (`@`: our column), where the way in changed it.
BACK = {
    ("workflow_executions", "expires_at"): "extract(epoch FROM @)::integer",
    ("progress_history", "entity_type"): "CASE @ WHEN 'sub_goal' THEN 'subgoal' ELSE @ END",
    ("change_history", "entity_type"): "CASE @ WHEN 'sub_goal' THEN 'subgoal' ELSE @ END",
    ("change_history", "changes"): (
        "(SELECT coalesce(jsonb_agg(jsonb_build_object('field', e->'field', 'oldValue', e->'old_value', "
        "'newValue', e->'new_value') ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(@) WITH ORDINALITY AS x(e, n))"
    ),
}


def ours_only(name: str) -> bool:
    """The tool's own tables (its ledgers and version table): not part of either layout."""
    return name.startswith("mandala_") or name == "alembic_version"


def inverse(current: Snapshot, prisma: Snapshot) -> Conversion:
    """The way back to the layout an adoption replaced (`prisma`, kept at the adoption): the same three
    parts in reverse, our names and values back to Prisma's, then the autodetector for the rest."""
    out = Conversion()
    sim = copy.deepcopy(current)
    for name in [t for t in sim.tables if ours_only(t)]:
        sim.tables.pop(name)
    for enum in sorted(prisma.enums):
        ours = snake(enum)
        if ours != enum and ours in sim.enums:
            out.statements.append(("", f"ALTER TYPE {ours} RENAME TO {quote(enum)}"))
            sim.enums[enum] = sim.enums.pop(ours)
            _rename_everywhere(sim, None, ours, quote(enum))
    for table in sorted(prisma.tables.keys() & sim.tables.keys()):
        t, p = sim.tables[table], prisma.tables[table]
        for name in sorted(n for n, (k, _) in t.constraints.items() if k == "c" and n not in p.constraints):
            # Our CHECKs go first: the values given back ('subgoal') are outside them.
            out.statements.append((table, f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
            t.constraints.pop(name)
        for column in list(t.columns):
            back = BACK.get((table, column))
            if (table, column) in DERIVED:
                out.statements.append((table, f"ALTER TABLE {table} DROP COLUMN {column}"))
                t.columns.pop(column)  # and what is built on it goes with it
                t.constraints = {n: kd for n, kd in t.constraints.items() if not uses(kd[1], column)}
                t.indexes = {
                    n: d for n, d in t.indexes.items() if not uses(d.partition(" USING ")[2], column)
                }
            elif (table, column) in RETYPED and back:
                prisma_type = p.columns[prisma_column(table, column, p.columns) or column].type
                out.statements.append((table, f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {prisma_type} "
                                              f"USING {back.replace('@', column)}"))  # fmt: skip
                t.columns[column].type = prisma_type
            elif back:
                out.statements.append((table, f"UPDATE {table} SET {column} = {back.replace('@', column)}"))
        for column in list(t.columns):
            source = prisma_column(table, column, p.columns)
            if source is not None and source != column:
                out.statements.append(
                    (table, f"ALTER TABLE {table} RENAME COLUMN {column} TO {quote(source)}")
                )
                t.columns[source] = t.columns.pop(column)
                _rename_everywhere(sim, table, column, quote(source) if source != source.lower() else source)
    for table in sorted(prisma.tables.keys() & sim.tables.keys()):
        _names_back(out, table, prisma.tables[table], sim.tables[table])
    rest = diff(prisma, sim)
    out.unrenderable += rest.unrenderable
    out.statements += [(_table_of(sql), sql) for sql in rest.statements]
    return out


def _names_back(out: Conversion, table: str, prisma: Table, t: Table) -> None:
    for name, (kind, definition) in sorted(prisma.constraints.items()):
        if kind == "p" and name not in t.constraints:
            old = next((n for n, (k, d) in t.constraints.items() if k == "p" and d == definition), None)
            if old:
                out.statements.append(
                    (table, f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {quote(name)}")
                )
                t.constraints[name] = t.constraints.pop(old)
    for name, definition in sorted(prisma.indexes.items()):
        if name in t.indexes:
            continue
        body = definition.partition(" ON ")[2]
        kind = definition.split(" ON ")[0].split()[1]
        old = next((n for n, d in t.indexes.items() if d.partition(" ON ")[2] == body
                    and d.split(" ON ")[0].split()[1] == kind and n not in prisma.indexes), None)  # fmt: skip
        if old:
            out.statements.append((table, f"ALTER INDEX {old} RENAME TO {quote(name)}"))
            t.indexes[name] = definition
            t.indexes.pop(old)
