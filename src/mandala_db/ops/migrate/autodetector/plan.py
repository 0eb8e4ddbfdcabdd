"""What the autodetector produces, and the two snapshots it compares, named once for every comparer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mandala_db.core.catalog import Column, Snapshot


@dataclass
class Plan:
    statements: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)  # what applying this plan throws away
    unrenderable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sides:
    """The target (the models) and the current state (the live database), and how their tables pair up."""

    target: Snapshot
    current: Snapshot

    @property
    def new_tables(self) -> list[str]:
        return sorted(self.target.tables.keys() - self.current.tables.keys())

    @property
    def gone_tables(self) -> list[str]:
        return sorted(self.current.tables.keys() - self.target.tables.keys())

    @property
    def common_tables(self) -> list[str]:
        return sorted(self.target.tables.keys() & self.current.tables.keys())


def ident(name: str) -> str:
    """A name as SQL must write it: bare when PostgreSQL would fold it to itself, quoted otherwise (what
    another tool created, such as Prisma's `"goals_userId_fkey"`)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def column_sql(name: str, col: Column) -> str:
    sql = f"{ident(name)} {col.type}"
    if col.identity:
        sql += " GENERATED " + ("ALWAYS" if col.identity == "a" else "BY DEFAULT") + " AS IDENTITY"
    elif col.default is not None:
        sql += f" DEFAULT {col.default}"
    if not col.nullable:
        sql += " NOT NULL"
    return sql
