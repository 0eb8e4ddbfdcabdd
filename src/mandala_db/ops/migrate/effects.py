"""What each statement of a plan does to the schema it meets: the lock it takes on which table (an index's
table found, the tables whose foreign keys it drops), whether it rewrites a table (a type change that is not
binary coercible, a value computed per row), and what is open in its transaction. The plan's lock and rewrite
columns and every lint rule read these same facts, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mandala_db.ops.migrate.analysis import Statement, nodes, strongest
from mandala_db.ops.migrate.model import SERIAL_TYPES, SchemaModel, TypeInfo, rewrites, type_of
from mandala_db.ops.migrate.moves import apply


@dataclass
class Transaction:
    """What the statements run so far in the same transaction did: a revision is one transaction, cut where
    a statement must run on its own (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE)."""

    added_columns: set[tuple[str, str]] = field(default_factory=set)
    not_valid: set[tuple[str, str]] = field(default_factory=set)  # (table, constraint) added NOT VALID here
    locks: dict[str, str] = field(default_factory=dict)  # the strongest lock held on each table so far


def function_calls(node: Any) -> list[Any]:
    """Every function call in an expression tree, nested ones included (`md5(random()::text)`)."""
    return [n for n in nodes(node) if type(n).__name__ == "FuncCall"]


def computed_per_row(column: Any, model: SchemaModel) -> str | None:
    """Why a column added to a table gets a value computed row by row (a rewrite), or None: a volatile
    default, identity, serial or a stored generated column."""
    constraints = {c.contype.name: c for c in column.constraints or ()}
    default = constraints.get("CONSTR_DEFAULT")
    volatile = [
        str(f.funcname[-1].sval)
        for f in function_calls(default.raw_expr if default is not None else None)
        if model.is_volatile(str(f.funcname[-1].sval))
    ]
    if volatile:
        return f"a volatile default ({', '.join(volatile)})"
    if "CONSTR_IDENTITY" in constraints:
        return "an identity value"
    if "CONSTR_GENERATED" in constraints:
        return "a stored generated value"
    if column.typeName is not None and type_of(column.typeName)[0] in SERIAL_TYPES:
        return "a serial value"
    return None


def type_change_rewrites(old: TypeInfo | None, new: TypeInfo, using: bool) -> bool:
    if using:
        return True
    if old is None:  # not known (no database, no history): only a change to unbounded text is sure to be safe
        return not (new[0] == "text" or (new[0] == "varchar" and not new[1]))
    return rewrites(old, new)


def _lock(st: Statement, table: str | None, mode: str) -> None:
    if table:
        st.locks[table] = strongest(st.locks.get(table), mode)


def assess(st: Statement, model: SchemaModel) -> None:
    """Complete the statement's locks and rewrites with what the schema knows."""
    node = st.node
    kind = type(node).__name__
    for index, mode in st.index_locks.items():
        _lock(st, model.indexes.get(index), mode)
    if kind == "DropStmt" and node.removeType.name == "OBJECT_TABLE":
        for table in list(st.locks):
            t = model.tables.get(table)
            # Dropping a table drops its foreign keys' triggers on the tables they point to.
            for _, ref in t.foreign_keys.values() if t else ():
                _lock(st, ref, "ACCESS EXCLUSIVE")
            if node.behavior.name == "DROP_CASCADE":
                for other in model.referencing(table) + model.dependent_views(table):
                    _lock(st, other, "ACCESS EXCLUSIVE")
    elif kind == "RefreshMatViewStmt":
        for table in model.views.get(node.relation.relname, ()):
            _lock(st, table, "ACCESS SHARE")
    elif kind == "TruncateStmt" and node.behavior.name == "DROP_CASCADE":
        for table in list(st.locks):
            for other in model.referencing(table):
                _lock(st, other, "ACCESS EXCLUSIVE")
    elif kind == "AlterTableStmt" and st.kind == "ALTER TABLE":
        table = node.relation.relname
        t = model.tables.get(table)
        for cmd in node.cmds or ():
            sub = cmd.subtype.name
            if t is not None and sub == "AT_DropColumn":
                for cols, ref in t.foreign_keys.values():
                    if cmd.name in cols:
                        _lock(st, ref, "ACCESS EXCLUSIVE")
            elif t is not None and sub == "AT_DropConstraint" and cmd.name in t.foreign_keys:
                _lock(st, t.foreign_keys[cmd.name][1], "ACCESS EXCLUSIVE")
            elif sub == "AT_AlterColumnType":
                using = getattr(cmd.def_, "raw_default", None) is not None
                if type_change_rewrites(
                    model.column_type(table, cmd.name), type_of(cmd.def_.typeName), using
                ):
                    st.rewrites.add(table)
            elif sub == "AT_AddColumn" and cmd.def_ is not None and computed_per_row(cmd.def_, model):
                st.rewrites.add(table)


class Walk:
    """The plan's statements in order, each assessed against the schema the ones before it left."""

    def __init__(self, model: SchemaModel) -> None:
        self.model = model
        self.tx = Transaction()

    def new_transaction(self) -> None:
        self.tx = Transaction()

    def before(self, st: Statement) -> None:
        st.tree()
        if not st.transactional:
            self.new_transaction()
        assess(st, self.model)

    def after(self, st: Statement) -> None:
        node = st.node
        if type(node).__name__ == "AlterTableStmt" and st.kind == "ALTER TABLE":
            table = node.relation.relname
            for cmd in node.cmds or ():
                if cmd.subtype.name == "AT_AddColumn" and cmd.def_ is not None:
                    self.tx.added_columns.add((table, cmd.def_.colname))
                if (
                    cmd.subtype.name == "AT_AddConstraint"
                    and cmd.def_ is not None
                    and cmd.def_.skip_validation
                ):
                    self.tx.not_valid.add((table, cmd.def_.conname or ""))
        for table, mode in st.locks.items():
            self.tx.locks[table] = strongest(self.tx.locks.get(table), mode)
        apply(self.model, st)
        if not st.transactional:
            self.new_transaction()
