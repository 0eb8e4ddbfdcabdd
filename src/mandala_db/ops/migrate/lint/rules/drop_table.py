"""Dropping a table that holds rows loses them, and the running release may still read it."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import dropped
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "drop-table", "error", "ACCESS EXCLUSIVE on the table (and on the tables its foreign keys point to)",
    "drops a table that holds rows: they are gone, and the running release fails on it",
    "stop using it first, rename it aside, and drop it in a later release after a backup",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table in dropped(st, "OBJECT_TABLE"):
        if st.node.missing_ok and table not in scope.model.tables and scope.model.tables:
            continue  # IF EXISTS of a name the schema (live or the history's) has no table by: a no-op
        if scope.populated(table):
            yield f"drops {table} and its {scope.size(table)}"
