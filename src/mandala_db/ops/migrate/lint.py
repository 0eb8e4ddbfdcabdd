"""Lint rules over the SQL a revision renders. Each rule is a small named unit: a severity, a one-line
explanation and the safe alternative. Whether a table is populated comes from the live database, so the
same revision is fine on an empty table and an error on a busy one.

A revision waives a rule with a comment that names it and gives a reason:
    # mandala-db: allow non-concurrent-index: the table is created empty by this revision
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.loader import Revision


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # error or warning
    explanation: str
    alternative: str


RULES = {
    r.name: r
    for r in [
        Rule(
            "drop-table",
            "error",
            "drops a table that holds rows",
            "stop using it first, rename it aside, and drop it in a later release after a backup",
        ),
        Rule(
            "drop-column",
            "error",
            "drops a column that holds data",
            "stop reading and writing it first, then drop it in a later release after a backup",
        ),
        Rule(
            "not-null-without-default",
            "error",
            "adds a NOT NULL column without a default to a populated table: the statement fails on the first row",
            "add it nullable (or with a default), backfill in batches, then SET NOT NULL",
        ),
        Rule(
            "set-not-null",
            "warning",
            "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE",
            "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL uses that check",
        ),
        Rule(
            "type-change-rewrite",
            "error",
            "changes a column type on a populated table: the table is rewritten under ACCESS EXCLUSIVE",
            "add a new column, backfill it in batches, switch readers, drop the old column later",
        ),
        Rule(
            "non-concurrent-index",
            "error",
            "builds an index without CONCURRENTLY on a populated table: writes wait for the whole build",
            "CREATE INDEX CONCURRENTLY (mandala-db runs it outside the transaction and resumes it)",
        ),
        Rule(
            "constraint-not-valid",
            "error",
            "adds a foreign key or CHECK without NOT VALID to a populated table: a full scan under lock",
            "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later step",
        ),
        Rule(
            "rename",
            "warning",
            "renames a table or column: the running application still uses the old name",
            "add the new name alongside (a view or a new column), move readers, then remove the old one",
        ),
        Rule(
            "enum-label-removed",
            "error",
            "removes labels from an enum: rows using them cannot be converted",
            "map every old label to a new one explicitly in the USING clause, then waive this rule",
        ),
        Rule(
            "destructive-downgrade",
            "warning",
            "the downgrade of this revision throws data away",
            "take a backup before rolling back through it (mandala-db does, and asks first)",
        ),
    ]
}


@dataclass
class LintFinding:
    rule: str
    severity: str
    revision: str
    message: str
    statement: str = ""
    waived: str | None = None  # the reason given, when the revision waives the rule

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and self.waived is None

    def line(self) -> str:
        rule = RULES[self.rule]
        state = f"waived: {self.waived}" if self.waived else f"instead: {rule.alternative}"
        return f"{self.severity} [{self.rule}] {self.revision}: {self.message} ({state})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "revision": self.revision,
            "message": self.message,
            "statement": self.statement,
            "waived": self.waived,
            "explanation": RULES[self.rule].explanation,
            "alternative": RULES[self.rule].alternative,
        }


RowsOf = Callable[[str], int | None]  # estimated rows of a live table; None when it does not exist (yet)


def lint(
    rev: Revision, statements: list[Statement], rows_of: RowsOf, live_enums: dict[str, list[str]]
) -> list[LintFinding]:
    findings: list[LintFinding] = []
    created: set[str] = set()
    renamed_types: set[str] = set()

    def populated(table: str) -> int:
        if table in created:
            return 0
        return rows_of(table) or 0

    def add(rule: str, message: str, statement: Statement) -> None:
        findings.append(
            LintFinding(
                rule, RULES[rule].severity, rev.id, message, statement.sql[:200], rev.waivers.get(rule)
            )
        )

    for st in statements:
        node = st.node
        kind = type(node).__name__
        if kind == "CreateStmt":
            created |= st.creates
        elif kind == "DropStmt" and st.kind == "DROP TABLE":
            for table in st.locks:
                if populated(table):
                    add("drop-table", f"drops {table} and its ~{populated(table):,} rows", st)
        elif kind == "AlterTableStmt" and st.kind == "ALTER TABLE":
            table = node.relation.relname
            rows = populated(table)
            for cmd in node.cmds or ():
                sub = cmd.subtype.name
                if sub == "AT_DropColumn" and rows:
                    add("drop-column", f"drops {table}.{cmd.name} with ~{rows:,} rows of data", st)
                elif sub == "AT_AddColumn" and rows:
                    constraints = [c.contype.name for c in cmd.def_.constraints or ()]
                    if "CONSTR_NOTNULL" in constraints and "CONSTR_DEFAULT" not in constraints:
                        add(
                            "not-null-without-default",
                            f"adds {table}.{cmd.def_.colname} NOT NULL without a default (~{rows:,} rows)",
                            st,
                        )
                elif sub == "AT_SetNotNull" and rows:
                    add("set-not-null", f"SET NOT NULL on {table}.{cmd.name} scans ~{rows:,} rows", st)
                elif sub == "AT_AlterColumnType" and rows:
                    add(
                        "type-change-rewrite",
                        f"changes the type of {table}.{cmd.name}: rewrites ~{rows:,} rows",
                        st,
                    )
                elif sub == "AT_AddConstraint" and rows and cmd.def_ is not None:
                    contype = cmd.def_.contype.name
                    if contype in ("CONSTR_FOREIGN", "CONSTR_CHECK") and not cmd.def_.skip_validation:
                        what = "foreign key" if contype == "CONSTR_FOREIGN" else "CHECK"
                        add(
                            "constraint-not-valid",
                            f"adds {what} {cmd.def_.conname or ''} to {table} without NOT VALID (~{rows:,} rows)",
                            st,
                        )
        elif kind == "IndexStmt" and not node.concurrent:
            table = node.relation.relname
            if populated(table):
                add(
                    "non-concurrent-index",
                    f"builds {node.idxname} on {table} (~{populated(table):,} rows) without CONCURRENTLY",
                    st,
                )
        elif kind == "RenameStmt":
            what = node.renameType.name.removeprefix("OBJECT_")
            if what == "TYPE":
                renamed_types.add(
                    node.object[-1].sval if isinstance(node.object, tuple) else str(node.object)
                )
            elif what in ("TABLE", "COLUMN"):
                target = node.relation.relname + (f".{node.subname}" if what == "COLUMN" else "")
                add("rename", f"renames {what.lower()} {target} to {node.newname}", st)
        elif kind == "CreateEnumStmt":
            name = node.typeName[-1].sval
            new = [v.sval for v in node.vals or ()]
            if name in renamed_types and name in live_enums:
                removed = [label for label in live_enums[name] if label not in new]
                if removed:
                    add("enum-label-removed", f"enum {name} loses {', '.join(removed)}", st)
    if rev.destructive_downgrade:
        findings.append(
            LintFinding(
                "destructive-downgrade",
                "warning",
                rev.id,
                f"its downgrade {rev.destructive_downgrade}",
                "",
                rev.waivers.get("destructive-downgrade"),
            )
        )
    return findings
