"""SET LOGGED / SET UNLOGGED rewrites the table (and, for LOGGED, writes it all to the WAL)."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "set-logged", "error", "ACCESS EXCLUSIVE on the table, for the whole rewrite",
    "switches a table between logged and unlogged by rewriting it while reads and writes wait",
    "create the table as it must be and move the data in batches",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, _cmd in alter_commands(st):
        if sub in ("AT_SetLogged", "AT_SetUnLogged") and scope.populated(table):
            how = "LOGGED" if sub == "AT_SetLogged" else "UNLOGGED"
            yield f"SET {how} rewrites {table} ({scope.size(table)})"
