"""DROP INDEX without CONCURRENTLY waits for, then blocks, every query on the index's table."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import dropped
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "drop-index", "error", "ACCESS EXCLUSIVE on the index's table",
    "drops an index without CONCURRENTLY: reads and writes of the table queue behind it, and behind any "
    "long query it waits for",
    "DROP INDEX CONCURRENTLY (mandala-db runs it outside the transaction)",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if st.node.concurrent if dropped(st, "OBJECT_INDEX") else True:
        return
    for index in dropped(st, "OBJECT_INDEX"):
        table = scope.model.indexes.get(index)
        if table is None and st.node.missing_ok and scope.model.indexes:
            continue  # IF EXISTS of an index the schema does not have: a no-op
        if scope.populated(table):
            yield f"drops index {index} of {table or 'a table'} ({scope.size(table)}) without CONCURRENTLY"
