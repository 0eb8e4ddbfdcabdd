"""What a revision's SQL does, read from PostgreSQL's own parser (pglast), never from regular expressions:
the statements one by one, which can run inside a transaction, the lock each takes on which table, and
whether it rewrites the table. `plan`, `lint` and the executor all read this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mandala_db.core.revision import VERSION_TABLE

# Lock modes, weakest to strongest (PostgreSQL documentation, 13.3.1).
LOCK_ORDER = [
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
]
BOOKKEEPING_TABLES = {VERSION_TABLE}

# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE.
_WEAKER_SUBCOMMANDS = {
    "AT_ValidateConstraint": "SHARE UPDATE EXCLUSIVE",
    "AT_SetStatistics": "SHARE UPDATE EXCLUSIVE",
    "AT_ClusterOn": "SHARE UPDATE EXCLUSIVE",
    "AT_SetRelOptions": "SHARE UPDATE EXCLUSIVE",
    "AT_EnableTrig": "SHARE ROW EXCLUSIVE",
    "AT_DisableTrig": "SHARE ROW EXCLUSIVE",
    "AT_EnableTrigUser": "SHARE ROW EXCLUSIVE",
    "AT_DisableTrigUser": "SHARE ROW EXCLUSIVE",
}


@dataclass
class Statement:
    sql: str
    kind: str  # CREATE INDEX, ALTER TABLE, DROP TABLE, ...
    transactional: bool = True
    locks: dict[str, str] = field(default_factory=dict)  # table -> strongest lock mode on it
    rewrites: set[str] = field(default_factory=set)  # tables rewritten (or possibly rewritten)
    creates: set[str] = field(default_factory=set)  # tables this statement creates
    index: str | None = None  # the index a CREATE/DROP INDEX names
    node: Any = None  # the parse tree, for lint rules
    renames: dict[str, str] = field(default_factory=dict)  # a table renamed: old name -> new name

    @property
    def bookkeeping(self) -> bool:
        """Alembic's own version-table statements."""
        touched = set(self.locks) | self.creates
        return bool(touched) and touched <= BOOKKEEPING_TABLES

    def lock_text(self) -> str:
        if not self.locks:
            return "no lock on existing tables"
        return ", ".join(f"{mode} on {table}" for table, mode in sorted(self.locks.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "kind": self.kind,
            "transactional": self.transactional,
            "locks": self.locks,
            "rewrites": sorted(self.rewrites),
        }


def _strongest(current: str | None, new: str) -> str:
    if current is None:
        return new
    return max(current, new, key=LOCK_ORDER.index)


def _name(node: Any) -> str:
    """The last part of a possibly qualified name."""
    if node is None:
        return ""
    if hasattr(node, "relname"):
        return str(node.relname)
    if isinstance(node, tuple | list):
        return str(node[-1].sval) if node else ""
    return str(getattr(node, "sval", node))


def _lock(st: Statement, table: str, mode: str) -> None:
    if table:
        st.locks[table] = _strongest(st.locks.get(table), mode)


def _alter_table(st: Statement, node: Any) -> None:
    table = _name(node.relation)
    if node.objtype is not None and node.objtype.name == "OBJECT_INDEX":
        st.kind = "ALTER INDEX"
        _lock(st, table, "SHARE UPDATE EXCLUSIVE")
        return
    for cmd in node.cmds or ():
        sub = cmd.subtype.name
        mode = _WEAKER_SUBCOMMANDS.get(sub, "ACCESS EXCLUSIVE")
        definition = cmd.def_
        if sub == "AT_AddConstraint" and definition is not None:
            contype = definition.contype.name
            if contype == "CONSTR_FOREIGN":
                mode = "SHARE ROW EXCLUSIVE"
                _lock(st, _name(definition.pktable), "SHARE ROW EXCLUSIVE")
        if sub == "AT_AlterColumnType":
            st.rewrites.add(table)
        if sub == "AT_AddColumn" and definition is not None:
            for constraint in definition.constraints or ():
                if constraint.contype.name == "CONSTR_DEFAULT" and _volatile(constraint.raw_expr):
                    st.rewrites.add(table)
        _lock(st, table, mode)


_STABLE_FUNCTIONS = {"now", "current_timestamp", "transaction_timestamp", "statement_timestamp"}


def _volatile(expr: Any) -> bool:
    """A default computed per row (random(), gen_random_uuid(), clock_timestamp()) forces a rewrite."""
    from pglast import ast

    found = False

    def visit(node: Any) -> None:
        nonlocal found
        if isinstance(node, ast.FuncCall) and _name(node.funcname) not in _STABLE_FUNCTIONS:
            found = True
        if isinstance(node, ast.Node):
            for attr in node:
                visit(getattr(node, attr))
        elif isinstance(node, tuple | list):
            for item in node:
                visit(item)

    visit(expr)
    return found


def _classify(st: Statement, node: Any) -> None:
    kind = type(node).__name__
    if kind == "CreateStmt":
        st.kind = "CREATE TABLE"
        st.creates.add(_name(node.relation))
        for element in node.tableElts or ():
            for constraint in getattr(element, "constraints", None) or [element]:
                if (
                    getattr(constraint, "contype", None) is not None
                    and constraint.contype.name == "CONSTR_FOREIGN"
                ):
                    _lock(st, _name(constraint.pktable), "SHARE ROW EXCLUSIVE")
    elif kind == "AlterTableStmt":
        st.kind = "ALTER TABLE"
        _alter_table(st, node)
    elif kind == "IndexStmt":
        st.kind = "CREATE INDEX" + (" CONCURRENTLY" if node.concurrent else "")
        st.index = node.idxname
        st.transactional = not node.concurrent
        _lock(st, _name(node.relation), "SHARE UPDATE EXCLUSIVE" if node.concurrent else "SHARE")
    elif kind == "DropStmt":
        what = node.removeType.name.removeprefix("OBJECT_")
        st.kind = f"DROP {what}" + (" CONCURRENTLY" if node.concurrent else "")
        names = [_name(obj) for obj in node.objects or ()]
        if what == "TABLE":
            for name in names:
                _lock(st, name, "ACCESS EXCLUSIVE")
        elif what == "INDEX":
            st.index = names[0] if names else None
            st.transactional = not node.concurrent
    elif kind == "RenameStmt":
        what = node.renameType.name.removeprefix("OBJECT_")
        st.kind = f"RENAME {what}"
        # ALTER INDEX ... RENAME names an index, not a table: it is no table the plan touches.
        if node.relation is not None and what != "INDEX":
            _lock(st, _name(node.relation), "ACCESS EXCLUSIVE")
        if what == "TABLE" and node.relation is not None and node.newname:
            st.renames[_name(node.relation)] = str(node.newname)
    elif kind == "CreateTrigStmt":
        st.kind = "CREATE TRIGGER"
        _lock(st, _name(node.relation), "SHARE ROW EXCLUSIVE")
    elif kind == "AlterEnumStmt":
        st.kind = "ALTER TYPE ADD VALUE" if node.newVal and not node.oldVal else "ALTER TYPE RENAME VALUE"
        # A label added in a transaction cannot be used before it commits: run it on its own.
        st.transactional = st.kind != "ALTER TYPE ADD VALUE"
    elif kind == "VacuumStmt":
        st.kind = "VACUUM" if node.is_vacuumcmd else "ANALYZE"
        st.transactional = not node.is_vacuumcmd
        for rel in node.rels or ():
            _lock(st, _name(rel.relation), "SHARE UPDATE EXCLUSIVE")
    elif kind in ("InsertStmt", "UpdateStmt", "DeleteStmt"):
        st.kind = kind.removesuffix("Stmt").upper()
        _lock(st, _name(node.relation), "ROW EXCLUSIVE")
    elif kind == "CreateEnumStmt":
        st.kind = "CREATE TYPE"
    elif kind == "DoStmt":
        st.kind = "DO block"
    elif kind == "TransactionStmt":
        st.kind = "TRANSACTION"
    else:
        st.kind = kind.removesuffix("Stmt")


def analyze(sql: str) -> list[Statement]:
    """Every statement of a script with what it does; transaction control statements are dropped."""
    from pglast import parse_sql

    raw = sql.encode()
    out = []
    for item in parse_sql(sql):
        start = item.stmt_location or 0
        length = item.stmt_len or len(raw) - start
        text = raw[start : start + length].decode().strip()
        st = Statement(text, "", node=item.stmt)
        _classify(st, item.stmt)
        if st.kind != "TRANSACTION":
            out.append(st)
    return out


def touched_tables(
    statements: list[Statement], ignore: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """(existing tables the statements touch, tables they create), read in order: a table renamed is the
    same table under its new name (ALTER TABLE reflections RENAME TO task_reflections touches one table,
    reflections), and a name created before it is touched is new, not an existing table touched."""
    alias: dict[str, str] = {}  # a later name -> the existing table it names
    created: set[str] = set()
    touched: set[str] = set()
    for st in statements:
        for name in st.locks:
            table = alias.get(name, name)
            if table not in created and table not in ignore:
                touched.add(table)
        for old, new in st.renames.items():
            original = alias.pop(old, old)
            if original not in created:
                alias[new] = original
        for name in st.creates:
            alias.pop(name, None)
            created.add(name)
    return sorted(touched), sorted(created - touched - ignore)


def needs_autocommit(statements: list[Statement]) -> bool:
    return any(not s.transactional for s in statements)
