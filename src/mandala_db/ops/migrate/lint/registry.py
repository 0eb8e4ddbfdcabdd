"""The lint rules' registry and what a rule sees. A rule is one module under `rules/`: its metadata (name,
severity, the lock the dangerous statement takes, what that costs on a populated table, the safe way) and its
check, registered by the `rule` decorator, as squawk keeps one file a rule and the security checks one unit
a check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.effects import Transaction
from mandala_db.ops.migrate.model import SchemaModel


@dataclass
class Scope:
    """What a rule may ask while the plan is walked: the schema as the earlier statements left it, what is
    open in the current transaction, and (for end-of-revision rules) how the revision found the enums."""

    model: SchemaModel
    tx: Transaction
    enums_before: dict[str, list[str]] = field(default_factory=dict)
    enum_statement: dict[str, Statement] = field(default_factory=dict)  # the last to touch each enum
    renamed_labels: set[tuple[str, str]] = field(default_factory=set)  # (enum, old label) renamed in place
    destructive_downgrade: str | None = None

    def populated(self, table: str | None) -> bool:
        return table is None or self.model.populated(table)

    def size(self, table: str | None) -> str:
        return self.model.size(table) if table else "a table of unknown size"


StatementCheck = Callable[[Statement, Scope], Iterable[str]]
RevisionCheck = Callable[[Scope], Iterable[tuple[str, Statement | None]]]


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # error or warning
    lock: str  # the lock the dangerous form takes
    cost: str  # what it costs on a populated table
    alternative: str  # the safe way
    module: str
    check: StatementCheck | None = None
    finish: RevisionCheck | None = None  # run once at the end of each revision


RULES: dict[str, Rule] = {}


def rule(
    name: str, severity: str, lock: str, cost: str, alternative: str, at: str = "statement"
) -> Callable[[Any], Any]:
    """Registers the decorated function as the check of a rule; `at="revision"` runs it once a revision."""
    assert severity in ("error", "warning"), severity
    assert at in ("statement", "revision"), at  # a rule with neither check would never fire

    def register(fn: Any) -> Any:
        if name in RULES:
            raise ValueError(f"lint rule {name} is registered twice")
        RULES[name] = Rule(
            name, severity, lock, cost, alternative, fn.__module__,
            check=fn if at == "statement" else None,
            finish=fn if at == "revision" else None,
        )  # fmt: skip
        return fn

    return register
