"""VALIDATE CONSTRAINT is the cheap half of NOT VALID only in a transaction of its own: after ADD CONSTRAINT
(or any strong lock on the table) in the same transaction, the scan runs under that lock."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import LOCK_ORDER, Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "validate-in-transaction", "error",
    "the stronger lock an earlier statement of the transaction took (SHARE ROW EXCLUSIVE or more), for the scan",
    "validates a constraint in the transaction that added it (or that locked the table strongly): the scan of "
    "every row runs under that lock, which is what NOT VALID was meant to avoid",
    "VALIDATE CONSTRAINT in a later revision (its own transaction, SHARE UPDATE EXCLUSIVE only)",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub != "AT_ValidateConstraint" or not scope.populated(table):
            continue
        held = scope.tx.locks.get(table)
        if (table, cmd.name) in scope.tx.not_valid:
            yield f"validates {cmd.name} on {table} in the transaction that added it ({scope.size(table)})"
        elif held and LOCK_ORDER.index(held) >= LOCK_ORDER.index("SHARE ROW EXCLUSIVE"):
            yield f"validates {cmd.name} on {table} while this transaction holds {held} on it ({scope.size(table)})"
