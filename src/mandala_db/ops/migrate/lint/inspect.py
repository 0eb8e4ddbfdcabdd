"""Reading a statement's parse tree for the rules: ALTER TABLE's subcommands, a constraint's kind, and
whether an UPDATE or DELETE is one bounded batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mandala_db.ops.migrate.analysis import Statement, nodes, object_name
from mandala_db.ops.migrate.model import SchemaModel


def node_kind(st: Statement) -> str:
    return type(st.node).__name__


def alter_commands(st: Statement) -> Iterator[tuple[str, str, Any]]:
    """(table, subcommand, command) of an ALTER TABLE."""
    node = st.node
    if node_kind(st) == "AlterTableStmt" and st.kind == "ALTER TABLE":
        for cmd in node.cmds or ():
            yield node.relation.relname, cmd.subtype.name, cmd


def added_constraints(st: Statement) -> Iterator[tuple[str, Any]]:
    """(table, constraint) of every ALTER TABLE ... ADD CONSTRAINT."""
    for table, sub, cmd in alter_commands(st):
        if sub == "AT_AddConstraint" and cmd.def_ is not None:
            yield table, cmd.def_


def _constant(node: Any) -> bool:
    """A literal, a parameter, or an expression of them (`1000 * 2`, `$1`, `'2024-01-01'::date`)."""
    kind = type(node).__name__
    if kind in ("A_Const", "ParamRef"):
        return True
    if kind == "TypeCast":
        return _constant(node.arg)
    if kind == "A_Expr" and node.kind.name == "AEXPR_OP":
        return all(_constant(x) for x in (node.lexpr, node.rexpr) if x is not None)
    if kind == "A_ArrayExpr":
        return all(_constant(x) for x in node.elements or ())
    if kind in ("tuple", "list"):
        return all(_constant(x) for x in node)
    return False


def _column(node: Any) -> str | None:
    if type(node).__name__ == "ColumnRef" and node.fields and hasattr(node.fields[-1], "sval"):
        return str(node.fields[-1].sval)
    return None


def _conjuncts(where: Any) -> list[Any]:
    if type(where).__name__ == "BoolExpr" and where.boolop.name == "AND_EXPR":
        return [c for arg in where.args for c in _conjuncts(arg)]
    return [where]


def bounded(node: Any, table: str, model: SchemaModel) -> bool:
    """Whether an UPDATE or DELETE touches one bounded batch: a subquery or CTE with LIMIT picks the rows,
    or its WHERE holds a key (or any column) to a range of constants: `id BETWEEN 1 AND 1000`,
    `id >= 1 AND id < 1001`, `id <= 1000`, `id = 7`, `id IN (1, 2, 3)`."""
    if any(type(n).__name__ == "SelectStmt" and n.limitCount is not None for n in nodes(node)):
        return True
    where = node.whereClause
    if where is None:
        return False
    t = model.tables.get(table)
    keys = (t.keys if t is not None and t.keys else set()) | {"id"}
    lower: set[str] = set()
    upper: set[str] = set()
    for c in _conjuncts(where):
        if type(c).__name__ != "A_Expr":
            continue
        kind = c.kind.name
        column, other = _column(c.lexpr), c.rexpr
        if column is None and kind == "AEXPR_OP":
            column, other = _column(c.rexpr), c.lexpr
            flipped = True
        else:
            flipped = False
        if column is None or not _constant(other):
            continue
        op = c.name[-1].sval if c.name else ""
        if flipped:
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        if kind == "AEXPR_BETWEEN":
            return True
        if kind in ("AEXPR_IN", "AEXPR_OP_ANY") or (kind == "AEXPR_OP" and op == "="):
            if column in keys:
                return True
        elif kind == "AEXPR_OP" and op in ("<", "<="):
            upper.add(column)
            if column in keys:  # keys start somewhere: an upper bound on one is a batch
                return True
        elif kind == "AEXPR_OP" and op in (">", ">="):
            lower.add(column)
    return bool(lower & upper)


def dropped(st: Statement, what: str) -> list[str]:
    """The names a DROP of that object type (OBJECT_TABLE, OBJECT_INDEX, ...) drops."""
    node = st.node
    if node_kind(st) != "DropStmt" or node.removeType.name != what:
        return []
    return [object_name(o) for o in node.objects or ()]
