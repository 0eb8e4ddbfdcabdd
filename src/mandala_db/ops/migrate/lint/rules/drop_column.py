"""Dropping a column loses its data, and the running release may still select or insert it."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "drop-column", "error", "ACCESS EXCLUSIVE on the table",
    "drops a column that holds data, which the running release may still read or write",
    "stop reading and writing it first, then drop it in a later release after a backup",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub == "AT_DropColumn" and scope.populated(table):
            yield f"drops {table}.{cmd.name} with {scope.size(table)} of data"
