"""Lint rules over the SQL a revision renders, in the manner of squawk: each rule is a small named unit
with a severity, a one-line explanation, the safe alternative, and a check function. Whether a table is
populated, what type a column has now, and which functions are volatile come from the live database
(`LiveFacts`), so the same revision is fine on an empty table and an error on a busy one.

A revision waives a rule with a comment that names it and gives a reason:
    # mandala-db: allow non-concurrent-index: the table is created empty by this revision
A waiver without a reason, or naming a rule that does not exist, waives nothing and is itself an error
(`bad-waiver`), so a typo cannot silently switch a rule off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast.ast import FuncCall, Node

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.loader import Revision

RowsOf = Callable[[str], int | None]  # estimated rows of a live table; None when it does not exist (yet)

# Used when no database is at hand to ask pg_proc: the volatile functions a default is usually made of.
KNOWN_VOLATILE = frozenset(
    {"gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1", "random", "clock_timestamp", "timeofday",
     "nextval", "txid_current", "pg_current_xact_id"}
)  # fmt: skip


@dataclass
class LiveFacts:
    """What the rules need to know of the live database."""

    rows_of: RowsOf
    enums: dict[str, list[str]] = field(default_factory=dict)
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, column) -> format_type
    is_volatile: Callable[[str], bool] = KNOWN_VOLATILE.__contains__


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str  # error or warning
    explanation: str
    alternative: str


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


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule("drop-table", "error", "drops a table that holds rows",
             "stop using it first, rename it aside, and drop it in a later release after a backup"),
        Rule("drop-column", "error", "drops a column that holds data",
             "stop reading and writing it first, then drop it in a later release after a backup"),
        Rule("not-null-without-default", "error",
             "adds a NOT NULL column without a default to a populated table: the statement fails on the first row",
             "add it nullable (or with a default), backfill in batches, then SET NOT NULL"),
        Rule("volatile-default", "error",
             "adds a column whose value is computed per row (a volatile default, identity, serial or stored "
             "generated column) to a populated table: the table is rewritten under ACCESS EXCLUSIVE",
             "add the column without a default, backfill it in batches, then SET DEFAULT for new rows"),
        Rule("set-not-null", "warning", "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE",
             "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL uses that check"),
        Rule("type-change-rewrite", "error",
             "changes a column type in a way that rewrites a populated table under ACCESS EXCLUSIVE",
             "add a new column, backfill it in batches, switch readers, drop the old column later"),
        Rule("non-concurrent-index", "error",
             "builds an index without CONCURRENTLY on a populated table: writes wait for the whole build",
             "CREATE INDEX CONCURRENTLY (mandala-db runs it outside the transaction and resumes it)"),
        Rule("constraint-not-valid", "error",
             "adds a foreign key or CHECK without NOT VALID to a populated table: a full scan under lock",
             "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later step"),
        Rule("rename", "warning", "renames a table or column: the running application still uses the old name",
             "add the new name alongside (a view or a new column), move readers, then remove the old one"),
        Rule("enum-label-removed", "error", "removes labels from an enum: rows using them cannot be converted",
             "map every old label to a new one explicitly in the USING clause, then waive this rule"),
        Rule("destructive-downgrade", "warning", "the downgrade of this revision throws data away",
             "take a backup before rolling back through it (mandala-db does, and asks first)"),
        Rule("bad-waiver", "error",
             "a waiver comment without a reason, or naming a rule that does not exist, waives nothing",
             "write `# mandala-db: allow RULE: why it is safe here`, with RULE one of the rules listed"),
    ]
}  # fmt: skip

# -- waivers ------------------------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"#\s*mandala-db\s*:(.*)$")
_WAIVER = re.compile(r"\s*allow\s+([a-z0-9][a-z0-9-]*)\s*(?::\s*(.*?))?\s*$")


@dataclass(frozen=True)
class Waivers:
    granted: dict[str, str]  # rule -> reason
    problems: list[tuple[int, str]]  # (line, what is wrong)


def read_waivers(source: str) -> Waivers:
    granted: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(source.splitlines(), 1):
        directive = _DIRECTIVE.search(line)
        if not directive:
            continue
        m = _WAIVER.fullmatch(directive.group(1))
        if not m:
            problems.append((number, f"cannot read `{line.strip()}`"))
        elif m.group(1) not in RULES or m.group(1) == "bad-waiver":
            problems.append((number, f"waives `{m.group(1)}`, which is not a rule"))
        elif not (m.group(2) or "").strip():
            problems.append((number, f"waives `{m.group(1)}` without a reason after a colon"))
        else:
            granted[m.group(1)] = m.group(2).strip()
    return Waivers(granted, problems)


# -- the rules' checks --------------------------------------------------------------------------------------


@dataclass
class Scope:
    """What one revision's statements have done so far, as the checks walk them in order."""

    facts: LiveFacts
    created: set[str] = field(default_factory=set)
    enums: dict[str, list[str]] = field(default_factory=dict)  # the enums as the revision leaves them
    enum_statement: dict[str, Statement] = field(default_factory=dict)  # the last to touch each enum
    renamed_labels: set[tuple[str, str]] = field(default_factory=set)  # (enum, old label) renamed in place

    def rows(self, table: str) -> int:
        return 0 if table in self.created else (self.facts.rows_of(table) or 0)


Found = Iterator[tuple[str, str]]  # (rule, message)
Check = Callable[[Statement, Scope], Found]


def _type_name(type_name: Any) -> tuple[str, list[int]]:
    names = [n.sval for n in type_name.names if n.sval != "pg_catalog"]
    mods = [m.val.ival for m in type_name.typmods or () if hasattr(getattr(m, "val", None), "ival")]
    return _CANONICAL.get(names[-1], names[-1]), mods


_CANONICAL = {
    "character varying": "varchar", "int4": "integer", "int": "integer", "int8": "bigint", "int2": "smallint",
    "decimal": "numeric", "bool": "boolean", "float8": "double precision", "float4": "real",
    "timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone",
}  # fmt: skip


def _live_type(text: str) -> tuple[str, list[int]]:
    """format_type's text, e.g. `character varying(200)` or `numeric(10,2)`, as (base, modifiers)."""
    m = re.fullmatch(r"(.+?)(?:\(([\d,\s]+)\))?(\[\])?", text.strip())
    if not m:
        return text, []
    base = _CANONICAL.get(m.group(1), m.group(1)) + (m.group(3) or "")
    return base, [int(x) for x in (m.group(2) or "").split(",") if x.strip()]


def rewrites(old: tuple[str, list[int]], new: tuple[str, list[int]]) -> bool:
    """Whether ALTER COLUMN TYPE (without USING) rewrites the table: not when the new type is binary
    coercible from the old and no stored value could need to change (PostgreSQL skips the rewrite)."""
    (ob, om), (nb, nm) = old, new
    if (ob, om) == (nb, nm):
        return False
    if ob in ("varchar", "text") and nb == "text":
        return False
    if ob in ("varchar", "text") and nb == "varchar":
        return not (not nm or (ob == "varchar" and om and nm[0] >= om[0]))
    if ob == "numeric" and nb == "numeric":
        if not nm:
            return False
        # A higher precision with the same scale keeps every stored value as it is.
        return not (len(om) == 2 and len(nm) == 2 and nm[1] == om[1] and nm[0] >= om[0])
    if ob in ("varbit", "bit varying") and nb in ("varbit", "bit varying"):
        return not (not nm or (om and nm[0] >= om[0]))
    return True


def check_drop_table(st: Statement, scope: Scope) -> Found:
    if type(st.node).__name__ == "DropStmt" and st.kind == "DROP TABLE":
        for table in st.locks:
            if scope.rows(table):
                yield "drop-table", f"drops {table} and its ~{scope.rows(table):,} rows"


def _alter_commands(st: Statement) -> Iterator[tuple[str, Any]]:
    node = st.node
    if type(node).__name__ == "AlterTableStmt" and st.kind == "ALTER TABLE":
        for cmd in node.cmds or ():
            yield node.relation.relname, cmd


def check_alter_table(st: Statement, scope: Scope) -> Found:
    for table, cmd in _alter_commands(st):
        rows = scope.rows(table)
        if not rows:
            continue
        sub = cmd.subtype.name
        if sub == "AT_DropColumn":
            yield "drop-column", f"drops {table}.{cmd.name} with ~{rows:,} rows of data"
        elif sub == "AT_AddColumn":
            column = cmd.def_
            constraints = {c.contype.name: c for c in column.constraints or ()}
            base, _ = _type_name(column.typeName)
            default = constraints.get("CONSTR_DEFAULT")
            volatile = [
                f.funcname[-1].sval
                for f in _function_calls(default.raw_expr if default is not None else None)
                if scope.facts.is_volatile(f.funcname[-1].sval)
            ]
            if volatile or "CONSTR_IDENTITY" in constraints or "CONSTR_GENERATED" in constraints or base in (
                "serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"
            ):  # fmt: skip
                how = (
                    f"a volatile default ({', '.join(volatile)})" if volatile else "a value computed per row"
                )
                yield "volatile-default", f"adds {table}.{column.colname} with {how}: rewrites ~{rows:,} rows"
            elif "CONSTR_NOTNULL" in constraints and default is None:
                yield (
                    "not-null-without-default",
                    f"adds {table}.{column.colname} NOT NULL without a default (~{rows:,} rows)",
                )
        elif sub == "AT_SetNotNull":
            yield "set-not-null", f"SET NOT NULL on {table}.{cmd.name} scans ~{rows:,} rows"
        elif sub == "AT_AlterColumnType":
            new = _type_name(cmd.def_.typeName)
            live = scope.facts.column_types.get((table, cmd.name))
            using = getattr(cmd.def_, "raw_default", None) is not None
            if using or live is None or rewrites(_live_type(live), new):
                shown = f"{live or 'its type'} to {new[0]}{'(' + ','.join(map(str, new[1])) + ')' if new[1] else ''}"
                yield (
                    "type-change-rewrite",
                    f"changes {table}.{cmd.name} from {shown}: rewrites ~{rows:,} rows",
                )
        elif sub == "AT_AddConstraint" and cmd.def_ is not None:
            contype = cmd.def_.contype.name
            if contype in ("CONSTR_FOREIGN", "CONSTR_CHECK") and not cmd.def_.skip_validation:
                what = "foreign key" if contype == "CONSTR_FOREIGN" else "CHECK"
                yield (
                    "constraint-not-valid",
                    f"adds {what} {cmd.def_.conname or ''} to {table} without NOT VALID (~{rows:,} rows)",
                )


def _function_calls(node: Any) -> Iterator[Any]:
    """Every function call in an expression tree, nested ones included (`md5(random()::text)`)."""
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _function_calls(item)
        return
    if not isinstance(node, Node):
        return
    if isinstance(node, FuncCall):
        yield node
    for slot in getattr(type(node), "__slots__", ()):
        yield from _function_calls(getattr(node, slot, None))


def check_index(st: Statement, scope: Scope) -> Found:
    node = st.node
    if type(node).__name__ == "IndexStmt" and not node.concurrent and scope.rows(node.relation.relname):
        table = node.relation.relname
        yield (
            "non-concurrent-index",
            f"builds {node.idxname} on {table} (~{scope.rows(table):,} rows) without CONCURRENTLY",
        )


def check_rename(st: Statement, scope: Scope) -> Found:
    node = st.node
    if type(node).__name__ == "RenameStmt":
        what = node.renameType.name.removeprefix("OBJECT_")
        if what in ("TABLE", "COLUMN"):
            target = node.relation.relname + (f".{node.subname}" if what == "COLUMN" else "")
            yield "rename", f"renames {what.lower()} {target} to {node.newname}"


def track_enums(st: Statement, scope: Scope) -> Found:
    """Follows every enum through the revision: created, renamed, dropped, labels added. Whatever way a
    label disappears (a rename aside and a new type, DROP TYPE and CREATE TYPE, a new type renamed over
    the old one) shows when the revision's end state is compared with the live enum."""
    node = st.node
    kind = type(node).__name__
    if kind == "CreateEnumStmt":
        name = node.typeName[-1].sval
        scope.enums[name] = [v.sval for v in node.vals or ()]
        scope.enum_statement[name] = st
    elif kind == "RenameStmt" and node.renameType.name == "OBJECT_TYPE":
        old = node.object[-1].sval if isinstance(node.object, tuple) else str(node.object)
        if old in scope.enums:
            scope.enums[node.newname] = scope.enums.pop(old)
            scope.enum_statement[node.newname] = st
    elif kind == "DropStmt" and node.removeType.name == "OBJECT_TYPE":
        for obj in node.objects or ():
            names = obj.names if hasattr(obj, "names") else obj
            scope.enums.pop(names[-1].sval, None)
    elif kind == "AlterEnumStmt" and node.newVal and not node.oldVal:
        name = node.typeName[-1].sval
        if name in scope.enums:
            scope.enums[name] = [*scope.enums[name], node.newVal]
    elif kind == "AlterEnumStmt" and node.oldVal and node.newVal:  # RENAME VALUE keeps the rows' values
        name = node.typeName[-1].sval
        if name in scope.enums:
            scope.enums[name] = [node.newVal if v == node.oldVal else v for v in scope.enums[name]]
            scope.renamed_labels.add((name, node.oldVal))
    return iter(())


CHECKS: list[Check] = [check_drop_table, check_alter_table, check_index, check_rename, track_enums]


def lint(rev: Revision, statements: list[Statement], facts: LiveFacts) -> list[LintFinding]:
    waivers = read_waivers(rev.source)
    findings: list[LintFinding] = [
        LintFinding("bad-waiver", "error", rev.id, f"{rev.path.name}, line {line}: {problem}")
        for line, problem in waivers.problems
    ]

    def add(rule: str, message: str, statement: Statement | None) -> None:
        sql = statement.sql[:200] if statement else ""
        findings.append(
            LintFinding(rule, RULES[rule].severity, rev.id, message, sql, waivers.granted.get(rule))
        )

    scope = Scope(facts, enums={k: list(v) for k, v in facts.enums.items()})
    for st in statements:
        if type(st.node).__name__ == "CreateStmt":
            scope.created |= st.creates
        for check in CHECKS:
            for rule, message in check(st, scope):
                add(rule, message, st)
    for name, labels in sorted(facts.enums.items()):
        if name in scope.enums and name in scope.enum_statement:
            removed = [
                label
                for label in labels
                if label not in scope.enums[name] and (name, label) not in scope.renamed_labels
            ]
            if removed:
                add(
                    "enum-label-removed",
                    f"enum {name} loses {', '.join(removed)}",
                    scope.enum_statement[name],
                )
    if rev.destructive_downgrade:
        add("destructive-downgrade", f"its downgrade {rev.destructive_downgrade}", None)
    return findings
