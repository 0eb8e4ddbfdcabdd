"""CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE: reads and writes wait throughout."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "cluster", "error", "ACCESS EXCLUSIVE on the table, for the whole rewrite",
    "rewrites the table in index order: nothing can read or write it until the copy is done",
    "leave physical order to a maintenance window, or use pg_repack (online); never in a deploy",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if st.kind == "CLUSTER":
        table = st.node.relation.relname if st.node.relation is not None else None
        if scope.populated(table):
            yield f"rewrites {table or 'every clustered table'} ({scope.size(table)}) in index order"
