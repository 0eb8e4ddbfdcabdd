"""A NOT NULL column without a default cannot be added to a table that has rows: the deploy fails."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "not-null-without-default", "error", "ACCESS EXCLUSIVE on the table",
    "adds a NOT NULL column without a default to a populated table: the statement fails on the first row",
    "add it nullable (or with a constant default), backfill in batches, then SET NOT NULL",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub != "AT_AddColumn" or not scope.populated(table):
            continue
        kinds = {c.contype.name for c in cmd.def_.constraints or ()}
        if kinds & {"CONSTR_NOTNULL", "CONSTR_PRIMARY"} and not kinds & {
            "CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED"
        } and not (cmd.def_.typeName and cmd.def_.typeName.names[-1].sval.endswith("serial")):  # fmt: skip
            yield f"adds {table}.{cmd.def_.colname} NOT NULL without a default ({scope.size(table)})"
