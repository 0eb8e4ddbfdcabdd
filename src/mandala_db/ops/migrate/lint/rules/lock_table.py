"""An explicit LOCK TABLE in a mode that conflicts with writes stops the application for the rest of the
transaction, however quick the statements after it are."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import LOCK_ORDER, Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "lock-table", "error", "the mode it names (ACCESS EXCLUSIVE when it names none), until the transaction ends",
    "locks a table in a mode that blocks writes (SHARE or stronger) for the rest of the revision",
    "let each statement take the lock it needs, under lock_timeout; lock in ROW EXCLUSIVE or weaker if at all",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    if st.kind == "LOCK TABLE":
        for table, mode in sorted(st.locks.items()):
            if LOCK_ORDER.index(mode) >= LOCK_ORDER.index("SHARE") and scope.populated(table):
                yield f"locks {table} ({scope.size(table)}) IN {mode} MODE"
