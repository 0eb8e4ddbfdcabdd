"""A UNIQUE, PRIMARY KEY or EXCLUDE constraint added as such builds its index under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import added_constraints
from mandala_db.ops.migrate.lint.registry import Scope, rule

_KINDS = {"CONSTR_UNIQUE": "UNIQUE", "CONSTR_PRIMARY": "PRIMARY KEY", "CONSTR_EXCLUSION": "EXCLUDE"}


@rule(
    "constraint-builds-index", "error", "ACCESS EXCLUSIVE on the table, for the whole index build",
    "adds a UNIQUE, PRIMARY KEY or exclusion constraint that builds its index while reads and writes wait "
    "(and fails the deploy on a duplicate)",
    "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) USING INDEX; an "
    "exclusion constraint has no such path: build it while the table is small, or waive with a reason",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, constraint in added_constraints(st):
        kind = _KINDS.get(constraint.contype.name)
        if kind and not constraint.indexname and scope.populated(table):
            yield f"adds {kind} {constraint.conname or ''} to {table}, building its index over {scope.size(table)}"
