"""DELETE without WHERE in a migration deletes every row of a production table."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "delete-without-where", "error", "ROW EXCLUSIVE on the table, and a row lock on every row",
    "deletes every row of a table: the data is gone, every row stays locked until the end, and the table bloats",
    "delete what must go in bounded batches with a WHERE, after a backup; or waive, naming why it is safe",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    node = st.node
    if node_kind(st) == "DeleteStmt" and node.whereClause is None and not node.usingClause:
        table = node.relation.relname
        if scope.populated(table):
            yield f"deletes every row of {table} ({scope.size(table)})"
