"""DROP ... CASCADE drops whatever depends on the object, which the revision does not name: DROP TYPE of an
enum drops every column of that type with its data."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement, object_name
from mandala_db.ops.migrate.lint.inspect import node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "drop-cascade", "error", "ACCESS EXCLUSIVE on every table it reaches",
    "drops an object with CASCADE: columns, views, foreign keys and tables that depend on it go too, unnamed",
    "drop the dependants explicitly first, each one visible in the revision, then the object without CASCADE",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    node = st.node
    if node_kind(st) == "DropStmt" and node.behavior.name == "DROP_CASCADE":
        what = node.removeType.name.removeprefix("OBJECT_").lower()
        names = [object_name(o) for o in node.objects or ()]
        created = [n for n in names if (t := scope.model.tables.get(n)) is not None and t.created]
        if len(created) < len(names):
            yield f"drops {what} {', '.join(names)} with CASCADE"
