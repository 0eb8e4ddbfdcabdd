"""A foreign key or CHECK added without NOT VALID is checked against every row while the table is locked."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import added_constraints, node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "constraint-not-valid", "error",
    "SHARE ROW EXCLUSIVE on both tables (a foreign key) or ACCESS EXCLUSIVE (a CHECK), for a scan of every row",
    "adds a foreign key or CHECK (or a domain constraint) without NOT VALID: every row is checked while "
    "writes wait",
    "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later revision",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    for table, constraint in added_constraints(st):
        contype = constraint.contype.name
        if (
            contype in ("CONSTR_FOREIGN", "CONSTR_CHECK")
            and not constraint.skip_validation
            and scope.populated(table)
        ):
            what = "foreign key" if contype == "CONSTR_FOREIGN" else "CHECK"
            yield f"adds {what} {constraint.conname or ''} to {table} without NOT VALID ({scope.size(table)})"
    node = st.node
    if (
        node_kind(st) == "AlterDomainStmt"
        and node.subtype == "C"
        and node.def_ is not None
        and not node.def_.skip_validation
    ):
        domain = node.typeName[-1].sval
        yield f"adds a constraint to domain {domain} without NOT VALID: every column of that domain is scanned"
