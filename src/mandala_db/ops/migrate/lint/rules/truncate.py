"""TRUNCATE in a migration empties a table of production data."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "truncate", "error", "ACCESS EXCLUSIVE on the table (and on every table CASCADE reaches)",
    "empties a table: its rows (and with CASCADE those of every table referencing it) are gone",
    "delete what must go in bounded batches with a WHERE, after a backup; or waive, naming why it is safe",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if st.kind == "TRUNCATE":
        for rel in st.node.relations or ():
            if scope.populated(rel.relname):
                yield f"empties {rel.relname} ({scope.size(rel.relname)})"
