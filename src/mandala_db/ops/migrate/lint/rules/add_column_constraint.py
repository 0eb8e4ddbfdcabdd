"""A constraint written inline in ADD COLUMN is built or checked in the same ACCESS EXCLUSIVE statement:
REFERENCES and CHECK scan the table, UNIQUE and PRIMARY KEY build an index."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands
from mandala_db.ops.migrate.lint.registry import Scope, rule

_KINDS = {
    "CONSTR_FOREIGN": "REFERENCES", "CONSTR_UNIQUE": "UNIQUE", "CONSTR_PRIMARY": "PRIMARY KEY",
    "CONSTR_CHECK": "CHECK", "CONSTR_EXCLUSION": "EXCLUDE",
}  # fmt: skip


@rule(
    "add-column-constraint", "error",
    "ACCESS EXCLUSIVE on the table (and SHARE ROW EXCLUSIVE on a referenced one), for the scan or build",
    "adds a column with its constraint inline (REFERENCES, UNIQUE, PRIMARY KEY, CHECK): the table is scanned "
    "or indexed while reads and writes wait",
    "add the column bare, then the constraint the safe way: NOT VALID + VALIDATE for REFERENCES and CHECK, "
    "CREATE UNIQUE INDEX CONCURRENTLY + USING INDEX for UNIQUE and PRIMARY KEY",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, sub, cmd in alter_commands(st):
        if sub != "AT_AddColumn" or not scope.populated(table):
            continue
        inline = [_KINDS[c.contype.name] for c in cmd.def_.constraints or () if c.contype.name in _KINDS]
        if inline:
            yield f"adds {table}.{cmd.def_.colname} with {', '.join(inline)} inline ({scope.size(table)})"
