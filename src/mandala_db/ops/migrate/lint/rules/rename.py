"""A rename breaks the running release at once: it still asks for the old name."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "rename", "error", "ACCESS EXCLUSIVE on the table (brief)",
    "renames a table or column: every query of the running release that names it fails until it is redeployed",
    "expand and contract: add the new name alongside (a new column kept in step, or a view), move readers, "
    "then remove the old one",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    node = st.node
    if node_kind(st) == "RenameStmt" and node.relation is not None:
        what = node.renameType.name.removeprefix("OBJECT_")
        table = node.relation.relname
        if what in ("TABLE", "COLUMN") and scope.populated(table):
            target = table + (f".{node.subname}" if what == "COLUMN" else "")
            yield f"renames {what.lower()} {target} to {node.newname}"
