"""A type change that is not binary coercible rewrites the table (and its indexes) under ACCESS EXCLUSIVE;
varchar growth, varchar to text or a numeric precision increase at the same scale does not."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule
from mandala_db.ops.migrate.model import shown, type_of


@rule(
    "type-change-rewrite", "error", "ACCESS EXCLUSIVE on the table, for the whole rewrite",
    "changes a column type in a way that rewrites a populated table and rebuilds its indexes while reads and "
    "writes wait",
    "add a new column, backfill it in batches, switch readers, drop the old column later",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub == "AT_AlterColumnType" and table in st.rewrites and scope.populated(table):
            old = scope.model.column_type(table, cmd.name)
            yield (
                f"changes {table}.{cmd.name} from {shown(old)} to {shown(type_of(cmd.def_.typeName))}: "
                f"rewrites {scope.size(table)}"
            )
