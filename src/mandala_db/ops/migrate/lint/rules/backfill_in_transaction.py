"""ADD COLUMN then UPDATE of that column in the same transaction: the ACCESS EXCLUSIVE lock the ADD COLUMN
took is held until the whole backfill commits, so every read and write of the table waits for it."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "backfill-in-transaction", "error", "ACCESS EXCLUSIVE on the table, held for the whole backfill",
    "fills a column in the transaction that added it: the table's strongest lock is held until the backfill "
    "ends, so every read and write waits",
    "add the column in one revision, backfill it in batches afterwards (a backfill of its own), then add "
    "constraints in a later revision",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    node = st.node
    if node_kind(st) != "UpdateStmt":
        return
    table = node.relation.relname
    columns = [t.name for t in node.targetList or () if getattr(t, "name", None)]
    filled = [c for c in columns if (table, c) in scope.tx.added_columns]
    if filled and scope.populated(table):
        yield f"fills {table}.{', '.join(filled)} in the transaction that added it ({scope.size(table)})"
