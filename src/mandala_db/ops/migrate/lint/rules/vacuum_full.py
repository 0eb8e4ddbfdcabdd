"""VACUUM FULL copies the whole table under ACCESS EXCLUSIVE, unlike a plain VACUUM."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "vacuum-full", "error", "ACCESS EXCLUSIVE on each table, for the whole copy",
    "rewrites each table into a new file: nothing can read or write it until the copy is done",
    "a plain VACUUM (SHARE UPDATE EXCLUSIVE: reads and writes go on), or pg_repack to give space back",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if st.kind == "VACUUM FULL":
        rels = [r.relation.relname for r in st.node.rels or ()]
        for table in rels or [None]:
            if scope.populated(table):
                yield f"VACUUM FULL rewrites {table or 'every table'} ({scope.size(table)})"
