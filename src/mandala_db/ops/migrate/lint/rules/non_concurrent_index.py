"""CREATE INDEX without CONCURRENTLY holds a SHARE lock for the whole build: every write waits."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "non-concurrent-index", "error", "SHARE on the table, for the whole build",
    "builds an index without CONCURRENTLY on a populated table: writes wait for the whole build",
    "CREATE INDEX CONCURRENTLY (mandala-db runs it outside the transaction and resumes it)",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    node = st.node
    if node_kind(st) == "IndexStmt" and not node.concurrent and scope.populated(node.relation.relname):
        table = node.relation.relname
        yield f"builds {node.idxname or 'an index'} on {table} ({scope.size(table)}) without CONCURRENTLY"
