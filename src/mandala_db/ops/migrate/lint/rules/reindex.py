"""REINDEX without CONCURRENTLY blocks writes to the table and reads that use the index for the rebuild."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "reindex", "error", "SHARE on the table and ACCESS EXCLUSIVE on each index, for the whole rebuild",
    "rebuilds indexes without CONCURRENTLY: writes wait, and so does every read that uses the index",
    "REINDEX ... CONCURRENTLY (mandala-db runs it outside the transaction)",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if node_kind(st) != "ReindexStmt" or st.kind.endswith("CONCURRENTLY"):
        return
    what = st.kind.removeprefix("REINDEX ")
    if what == "INDEX":
        table = scope.model.indexes.get(st.index or "")
        if scope.populated(table):
            yield f"rebuilds index {st.index} of {table or 'a table'} ({scope.size(table)}) without CONCURRENTLY"
    elif what == "TABLE":
        table = st.node.relation.relname
        if scope.populated(table):
            yield f"rebuilds every index of {table} ({scope.size(table)}) without CONCURRENTLY"
    else:
        yield f"rebuilds every index of a {what.lower()} without CONCURRENTLY"
