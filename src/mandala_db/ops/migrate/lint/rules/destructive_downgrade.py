"""A revision that says its downgrade throws data away: rolling back through it needs a backup."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "destructive-downgrade", "warning", "none (it is the downgrade that loses data)",
    "the downgrade of this revision throws data away",
    "take a backup before rolling back through it (mandala-db does, and asks first)",
    at="revision",
)  # fmt: skip
def check(scope: Scope) -> Iterator[tuple[str, Statement | None]]:
    if scope.destructive_downgrade:
        yield f"its downgrade {scope.destructive_downgrade}", None
