"""One UPDATE (or DELETE with a WHERE) over a populated table is a backfill in one statement: every row it
touches stays locked until it commits, and the table bloats by as many dead rows."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import bounded, node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "unbatched-write", "error", "ROW EXCLUSIVE on the table, and a row lock on every row it touches",
    "updates (or deletes) every matching row of a populated table in one statement: those rows stay locked "
    "until it commits, writers to them wait, and the table bloats",
    "backfill in batches of a bounded key range (`WHERE id BETWEEN ...` or `id IN (SELECT ... LIMIT n)`), "
    "each committed on its own: mandala-db's batched backfills do it for you",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    kind = node_kind(st)
    node = st.node
    if kind == "UpdateStmt" or (kind == "DeleteStmt" and node.whereClause is not None):
        table = node.relation.relname
        if scope.populated(table) and not bounded(node, table, scope.model):
            verb = "updates" if kind == "UpdateStmt" else "deletes"
            where = "every row" if node.whereClause is None else "every matching row"
            yield f"{verb} {where} of {table} ({scope.size(table)}) in one statement"
