"""REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until it is rebuilt."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "refresh-materialized-view", "error", "ACCESS EXCLUSIVE on the view, for the whole rebuild",
    "rebuilds a materialized view while every read of it waits",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view; EXCLUSIVE: reads go on)",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if st.kind == "REFRESH MATERIALIZED VIEW":
        view = st.node.relation.relname
        t = scope.model.tables.get(view)
        if not (t is not None and t.created):
            yield f"rebuilds {view} while its readers wait"
