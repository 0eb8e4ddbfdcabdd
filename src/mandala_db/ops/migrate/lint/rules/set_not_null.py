"""SET NOT NULL reads every row under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) proves it
already (PostgreSQL 12+); ADD PRIMARY KEY sets NOT NULL on its columns the same way."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import added_constraints, alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "set-not-null", "error", "ACCESS EXCLUSIVE on the table, for a scan of every row",
    "SET NOT NULL (or a primary key on nullable columns) scans the whole table while reads and writes wait, "
    "and fails the deploy if a NULL is left",
    "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c in a later revision; then "
    "SET NOT NULL, which trusts the check, and DROP CONSTRAINT c",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub == "AT_SetNotNull" and scope.populated(table) and not _proven(scope, table, cmd.name):
            yield f"SET NOT NULL on {table}.{cmd.name} scans {scope.size(table)}"
    for table, constraint in added_constraints(st):
        if constraint.contype.name == "CONSTR_PRIMARY" and constraint.indexname and scope.populated(table):
            t = scope.model.tables.get(table)
            keys = [k.sval for k in constraint.keys or ()] or scope.model.index_columns.get(
                constraint.indexname, []
            )
            nullable = [k for k in keys if t is None or (k not in t.not_null and k not in t.checked_not_null)]
            if nullable or not keys:
                yield f"ADD PRIMARY KEY USING INDEX {constraint.indexname} sets NOT NULL on {table}, scanning {scope.size(table)}"


def _proven(scope: Scope, table: str, column: str) -> bool:
    t = scope.model.tables.get(table)
    return t is not None and (
        column in t.checked_not_null or column in t.not_null or bool(t.validated_unknown)
    )
