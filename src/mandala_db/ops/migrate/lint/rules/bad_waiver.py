"""A waiver that cannot be trusted (no reason, a rule that does not exist, unreadable) is itself an error;
the engine reports it while reading the waivers, so this module carries only the rule's metadata."""

from __future__ import annotations

from collections.abc import Iterator

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.registry import Scope, rule


@rule(
    "bad-waiver", "error", "none",
    "a waiver comment without a reason, or naming a rule that does not exist, waives nothing",
    "write `# mandala-db: allow RULE: why it is safe here` (`-- ...` in a .sql file), RULE one of the rules",
    at="revision",
)  # fmt: skip
def check(scope: Scope) -> Iterator[tuple[str, Statement | None]]:
    return iter(())
