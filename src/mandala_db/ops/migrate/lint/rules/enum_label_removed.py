"""An enum label that disappears, whichever way (renamed aside and recreated, DROP TYPE and CREATE TYPE, a
new type renamed over the old), leaves the rows that use it with no value to convert to."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "enum-label-removed", "error", "ACCESS EXCLUSIVE on every table with a column of the type",
    "removes labels from an enum: rows using them cannot be converted, and the deploy fails or loses them",
    "map every old label to a new one explicitly in the USING clause, then waive this rule",
    at="revision",
)  # fmt: skip
def check(scope: Scope) -> Iterator[tuple[str, Statement | None]]:
    for name, labels in sorted(scope.enums_before.items()):
        if name in scope.model.existing_enums and name in scope.model.enums and name in scope.enum_statement:
            removed = [
                label
                for label in labels
                if label not in scope.model.enums[name] and (name, label) not in scope.renamed_labels
            ]
            if removed:
                yield f"enum {name} loses {', '.join(removed)}", scope.enum_statement[name]
