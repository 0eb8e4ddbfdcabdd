"""ALTER TABLE ... SET TABLESPACE copies the table's files under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "set-tablespace", "error", "ACCESS EXCLUSIVE on the table, for the whole copy",
    "moves a table to another tablespace by copying every block while reads and writes wait",
    "create the new table in the tablespace and move the data in batches, or do it in a maintenance window",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub == "AT_SetTableSpace" and scope.populated(table):
            yield f"moves {table} ({scope.size(table)}) to tablespace {cmd.name}"
