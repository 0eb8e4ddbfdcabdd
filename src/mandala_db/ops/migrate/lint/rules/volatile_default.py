"""A column whose value is computed row by row makes PostgreSQL write the whole table anew."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.effects import computed_per_row
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "volatile-default", "error", "ACCESS EXCLUSIVE on the table, for the whole rewrite",
    "adds a column whose value is computed per row (a volatile default, identity, serial or stored generated "
    "column) to a populated table: the table is rewritten while reads and writes wait",
    "add the column without a default, backfill it in batches, then SET DEFAULT for new rows",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub == "AT_AddColumn" and table in st.rewrites and scope.populated(table):
            how = computed_per_row(cmd.def_, scope.model)
            if how:
                yield f"adds {table}.{cmd.def_.colname} with {how}: rewrites {scope.size(table)}"
