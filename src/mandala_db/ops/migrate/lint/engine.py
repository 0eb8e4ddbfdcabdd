"""The walk: every statement of the plan, revision after revision, assessed against the schema the earlier
ones left (ops/migrate/effects), then shown to every rule. Waivers are read per revision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.effects import Walk
from mandala_db.ops.migrate.lint import rules as _rules  # noqa: F401 - registers every rule
from mandala_db.ops.migrate.lint.registry import RULES, Scope
from mandala_db.ops.migrate.lint.waivers import read_waivers
from mandala_db.ops.migrate.model import SchemaModel


@dataclass
class LintFinding:
    rule: str
    severity: str
    revision: str
    message: str
    statement: str = ""
    waived: str | None = None  # the reason given, when the revision waives the rule
    file: str = ""  # the file the statement (or waiver) is in
    line: int | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and self.waived is None

    def text(self) -> str:
        rule = RULES[self.rule]
        state = f"waived: {self.waived}" if self.waived else f"instead: {rule.alternative}"
        return f"{self.severity} [{self.rule}] {self.revision}: {self.message} ({state})"

    def to_dict(self) -> dict[str, Any]:
        rule = RULES[self.rule]
        return {
            "rule": self.rule,
            "severity": self.severity,
            "revision": self.revision,
            "message": self.message,
            "statement": self.statement,
            "waived": self.waived,
            "file": self.file,
            "line": self.line,
            "lock": rule.lock,
            "explanation": rule.cost,
            "alternative": rule.alternative,
        }


@dataclass
class Unit:
    """One revision (or .sql file) to lint: its statements in order, the text waivers are read from, and how
    to find the line of a statement in the file."""

    id: str
    path: Path
    source: str
    statements: list[Statement]
    destructive_downgrade: str | None = None
    line_of: Callable[[Statement], int | None] = field(default=lambda _st: None)


def lint_units(units: list[Unit], model: SchemaModel) -> list[LintFinding]:
    """Lint the units in order against the model, which they move on; each statement's locks and rewrites
    are completed on the way (what the plan shows)."""
    walk = Walk(model)
    findings: list[LintFinding] = []
    for unit in units:
        waivers = read_waivers(unit.source, RULES)
        findings += [
            LintFinding("bad-waiver", "error", unit.id, f"{unit.path.name}, line {n}: {problem}",
                        file=str(unit.path), line=n)
            for n, problem in waivers.problems
        ]  # fmt: skip

        walk.new_transaction()  # a revision is a transaction of its own
        scope = Scope(model, walk.tx, {k: list(v) for k, v in model.enums.items()},
                      destructive_downgrade=unit.destructive_downgrade)  # fmt: skip
        for st in unit.statements:
            walk.before(st)
            scope.tx = walk.tx
            for r in RULES.values():
                if r.check is not None:
                    for message in r.check(st, scope):
                        findings.append(_finding(unit, waivers.granted, r.name, message, st))
            _follow_enums(st, scope)
            walk.after(st)
            scope.tx = walk.tx
        for r in RULES.values():
            if r.finish is not None:
                for message, at in r.finish(scope):
                    findings.append(_finding(unit, waivers.granted, r.name, message, at))
    return findings


def _finding(
    unit: Unit, waived: dict[str, str], rule: str, message: str, st: Statement | None
) -> LintFinding:
    return LintFinding(
        rule,
        RULES[rule].severity,
        unit.id,
        message,
        st.sql[:200] if st else "",
        waived.get(rule),
        str(unit.path),
        unit.line_of(st) if st else None,
    )


def _follow_enums(st: Statement, scope: Scope) -> None:
    """Which statement last touched each enum, and which labels were renamed in place (the rows keep them)."""
    node = st.node
    kind = type(node).__name__
    if kind in ("CreateEnumStmt", "AlterEnumStmt"):
        name = node.typeName[-1].sval
        scope.enum_statement[name] = st
        if kind == "AlterEnumStmt" and node.oldVal and node.newVal:
            scope.renamed_labels.add((name, node.oldVal))
    elif kind == "RenameStmt" and node.renameType.name == "OBJECT_TYPE":
        scope.enum_statement[node.newname] = st
