"""What a revision's SQL does, read from PostgreSQL's own parser (pglast), never from regular expressions:
the statements one by one, which can run inside a transaction, the lock each takes on which table, and
whether it rewrites the table. `plan`, `lint` and the executor all read this.
"""

from __future__ import annotations

from collections.abc import Iterator
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

# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (PostgreSQL's ALTER TABLE documentation, and
# AlterTableGetLockLevel; tests/ops/migrate/test_locks.py reads each from pg_locks).
_WEAKER_SUBCOMMANDS = {
    **dict.fromkeys(
        ["AT_ValidateConstraint", "AT_SetStatistics", "AT_SetOptions", "AT_ResetOptions", "AT_ClusterOn",
         "AT_DropCluster", "AT_SetRelOptions", "AT_ResetRelOptions"],
        "SHARE UPDATE EXCLUSIVE",
    ),
    **dict.fromkeys(
        ["AT_EnableTrig", "AT_DisableTrig", "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser",
         "AT_DisableTrigUser", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig"],
        "SHARE ROW EXCLUSIVE",
    ),
}  # fmt: skip

# ALTER TABLE subcommands that write the whole table anew whatever the live database holds; a type change
# and a column computed per row depend on it, and are judged with the schema at hand (ops/migrate/effects).
_REWRITING_SUBCOMMANDS = {"AT_SetLogged", "AT_SetUnLogged", "AT_SetTableSpace", "AT_SetAccessMethod"}

# Statements PostgreSQL refuses inside a transaction block ("cannot run inside a transaction block").
_NEVER_IN_TRANSACTION = {
    "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
    "CreateSubscriptionStmt", "DropSubscriptionStmt",
}  # fmt: skip


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
    index_locks: dict[str, str] = field(
        default_factory=dict
    )  # index -> the lock its table gets (DROP, REINDEX)
    offset: int = 0  # where the statement starts in the SQL it was read from (characters)

    def tree(self) -> Any:
        """The parse tree; a statement read back from the render cache has none until it is asked for."""
        if self.node is None:
            from pglast import parse_sql

            parsed = parse_sql(self.sql)
            self.node = parsed[0].stmt if parsed else None
        return self.node

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


class SqlSyntaxError(ValueError):
    """PostgreSQL's parser refused the SQL: its message, and where (a character offset into the SQL)."""

    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def strongest(current: str | None, new: str) -> str:
    if current is None:
        return new
    return max(current, new, key=LOCK_ORDER.index)


def object_name(node: Any) -> str:
    """The last part of a possibly qualified name: a RangeVar, a TypeName, a list of Strings, a String."""
    if node is None:
        return ""
    if hasattr(node, "relname"):
        return str(node.relname)
    if hasattr(node, "names") and node.names:
        return str(node.names[-1].sval)
    if isinstance(node, tuple | list):
        return str(node[-1].sval) if node else ""
    return str(getattr(node, "sval", node))


def _lock(st: Statement, table: str, mode: str) -> None:
    if table:
        st.locks[table] = strongest(st.locks.get(table), mode)


def _option(options: Any, name: str) -> bool:
    """Whether a statement's option list (VACUUM (FULL), REINDEX (CONCURRENTLY)) holds the option, on."""
    for option in options or ():
        if getattr(option, "defname", None) == name:
            arg = getattr(option, "arg", None)
            value = getattr(arg, "sval", None) or getattr(arg, "boolval", None)
            return value is None or str(value).lower() not in ("false", "off", "0")
    return False


def nodes(tree: Any) -> Iterator[Any]:
    """Every node of a parse tree, the tree itself first (lists and tuples walked through)."""
    from pglast import ast

    if isinstance(tree, ast.Node):
        yield tree
        for attr in tree:
            yield from nodes(getattr(tree, attr))
    elif isinstance(tree, tuple | list):
        for item in tree:
            yield from nodes(item)


def read_tables(node: Any) -> set[str]:
    """Every table a statement names in its queries (FROM, JOIN, subqueries), CTE names left out: what it
    reads, under ACCESS SHARE."""
    found: set[str] = set()
    ctes: set[str] = set()
    for item in nodes(node):
        kind = type(item).__name__
        if kind == "CommonTableExpr":
            ctes.add(str(item.ctename))
        elif kind == "RangeVar":
            found.add(str(item.relname))
    return found - ctes


def _alter_table(st: Statement, node: Any) -> None:
    table = object_name(node.relation)
    objtype = node.objtype.name if node.objtype is not None else "OBJECT_TABLE"
    if objtype == "OBJECT_INDEX":
        st.kind = "ALTER INDEX"  # SHARE UPDATE EXCLUSIVE on the index only; its table is not locked
        return
    if objtype not in ("OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
        st.kind = f"ALTER {objtype.removeprefix('OBJECT_')}"
        return
    for cmd in node.cmds or ():
        sub = cmd.subtype.name
        mode = _WEAKER_SUBCOMMANDS.get(sub, "ACCESS EXCLUSIVE")
        definition = cmd.def_
        if (
            sub == "AT_AddConstraint"
            and definition is not None
            and definition.contype.name == "CONSTR_FOREIGN"
        ):
            mode = "SHARE ROW EXCLUSIVE"
            _lock(st, object_name(definition.pktable), "SHARE ROW EXCLUSIVE")
        if sub == "AT_AddColumn" and definition is not None:
            for constraint in definition.constraints or ():
                if constraint.contype.name == "CONSTR_FOREIGN":
                    _lock(st, object_name(constraint.pktable), "SHARE ROW EXCLUSIVE")
        if sub == "AT_AttachPartition":
            mode = "SHARE UPDATE EXCLUSIVE"
            _lock(st, object_name(definition.name), "ACCESS EXCLUSIVE")
        if sub == "AT_DetachPartition":
            mode = "SHARE UPDATE EXCLUSIVE" if definition.concurrent else "ACCESS EXCLUSIVE"
            _lock(st, object_name(definition.name), mode)
            if definition.concurrent:
                st.transactional = False
        if sub in ("AT_AddInherit", "AT_DropInherit"):
            _lock(st, object_name(definition), "SHARE UPDATE EXCLUSIVE")
        if sub in _REWRITING_SUBCOMMANDS:
            st.rewrites.add(table)
        _lock(st, table, mode)


def _classify(st: Statement, node: Any) -> None:
    kind = type(node).__name__
    if kind in _NEVER_IN_TRANSACTION:
        st.transactional = False
    if kind == "CreateStmt":
        st.kind = "CREATE TABLE"
        st.creates.add(object_name(node.relation))
        for element in node.tableElts or ():
            if type(element).__name__ == "TableLikeClause":
                _lock(st, object_name(element.relation), "ACCESS SHARE")
            for constraint in getattr(element, "constraints", None) or [element]:
                if (
                    getattr(constraint, "contype", None) is not None
                    and constraint.contype.name == "CONSTR_FOREIGN"
                ):
                    _lock(st, object_name(constraint.pktable), "SHARE ROW EXCLUSIVE")
        for parent in node.inhRelations or ():
            # PARTITION OF takes the parent's strongest lock; INHERITS only keeps it from changing.
            _lock(st, object_name(parent), "ACCESS EXCLUSIVE" if node.partbound else "SHARE UPDATE EXCLUSIVE")
    elif kind == "CreateTableAsStmt":
        st.kind = "CREATE MATERIALIZED VIEW" if node.objtype.name == "OBJECT_MATVIEW" else "CREATE TABLE AS"
        st.creates.add(object_name(node.into.rel))
        for table in read_tables(node.query):
            _lock(st, table, "ACCESS SHARE")
    elif kind == "AlterTableStmt":
        st.kind = "ALTER TABLE"
        _alter_table(st, node)
    elif kind == "IndexStmt":
        st.kind = "CREATE INDEX" + (" CONCURRENTLY" if node.concurrent else "")
        st.index = node.idxname
        st.transactional = not node.concurrent
        _lock(st, object_name(node.relation), "SHARE UPDATE EXCLUSIVE" if node.concurrent else "SHARE")
    elif kind == "DropStmt":
        what = node.removeType.name.removeprefix("OBJECT_")
        st.kind = f"DROP {what}" + (" CONCURRENTLY" if node.concurrent else "")
        names = [object_name(obj) for obj in node.objects or ()]
        if what in ("TABLE", "MATVIEW", "FOREIGN_TABLE"):
            for name in names:
                _lock(st, name, "ACCESS EXCLUSIVE")
        elif what == "INDEX":
            st.index = names[0] if names else None
            st.transactional = not node.concurrent
            for name in names:
                st.index_locks[name] = "SHARE UPDATE EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE"
        elif what in ("TRIGGER", "POLICY", "RULE"):
            for obj in node.objects or ():  # (table, name)
                if len(obj) >= 2:
                    _lock(st, str(obj[-2].sval), "ACCESS EXCLUSIVE")
    elif kind == "RenameStmt":
        what = node.renameType.name.removeprefix("OBJECT_")
        st.kind = f"RENAME {what}"
        # ALTER INDEX ... RENAME locks the index, not its table.
        if node.relation is not None and what != "INDEX":
            _lock(st, object_name(node.relation), "ACCESS EXCLUSIVE")
        if what == "TABLE" and node.relation is not None and node.newname:
            st.renames[object_name(node.relation)] = str(node.newname)
    elif kind == "ReindexStmt":
        concurrent = _option(node.params, "concurrently")
        what = node.kind.name.removeprefix("REINDEX_OBJECT_")
        st.kind = f"REINDEX {what}" + (" CONCURRENTLY" if concurrent else "")
        st.transactional = not concurrent and what not in ("SCHEMA", "DATABASE", "SYSTEM")
        mode = "SHARE UPDATE EXCLUSIVE" if concurrent else "SHARE"
        if what == "INDEX":
            st.index = object_name(node.relation)
            st.index_locks[st.index] = mode
        elif what == "TABLE":
            _lock(st, object_name(node.relation), mode)
    elif kind == "ClusterStmt":
        st.kind = "CLUSTER"
        if node.relation is None:
            st.transactional = False  # CLUSTER of every table that was clustered before
        else:
            _lock(st, object_name(node.relation), "ACCESS EXCLUSIVE")
            st.rewrites.add(object_name(node.relation))
    elif kind == "VacuumStmt":
        full = _option(node.options, "full")
        st.kind = ("VACUUM FULL" if full else "VACUUM") if node.is_vacuumcmd else "ANALYZE"
        st.transactional = not node.is_vacuumcmd
        for rel in node.rels or ():
            _lock(st, object_name(rel.relation), "ACCESS EXCLUSIVE" if full else "SHARE UPDATE EXCLUSIVE")
            if full:
                st.rewrites.add(object_name(rel.relation))
    elif kind == "TruncateStmt":
        st.kind = "TRUNCATE"
        for rel in node.relations or ():
            _lock(st, object_name(rel), "ACCESS EXCLUSIVE")
    elif kind == "LockStmt":
        st.kind = "LOCK TABLE"
        for rel in node.relations or ():
            _lock(st, object_name(rel), LOCK_ORDER[int(node.mode) - 1])
    elif kind == "RefreshMatViewStmt":
        st.kind = "REFRESH MATERIALIZED VIEW" + (" CONCURRENTLY" if node.concurrent else "")
        _lock(st, object_name(node.relation), "EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE")
    elif kind in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"):
        st.kind = kind.removesuffix("Stmt").upper()
        for table in read_tables(node):
            _lock(st, table, "ACCESS SHARE")
        _lock(st, object_name(node.relation), "ROW EXCLUSIVE")
    elif kind in ("SelectStmt", "ViewStmt"):
        st.kind = "SELECT" if kind == "SelectStmt" else "CREATE VIEW"
        for table in read_tables(node.query if kind == "ViewStmt" else node):
            _lock(st, table, "ACCESS SHARE")
    elif kind == "CreateTrigStmt":
        st.kind = "CREATE TRIGGER"
        _lock(st, object_name(node.relation), "SHARE ROW EXCLUSIVE")
    elif kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
        st.kind = "CREATE POLICY" if kind == "CreatePolicyStmt" else "ALTER POLICY"
        _lock(st, object_name(node.table), "ACCESS EXCLUSIVE")
    elif kind == "RuleStmt":
        st.kind = "CREATE RULE"
        _lock(st, object_name(node.relation), "ACCESS EXCLUSIVE")
    elif kind == "CommentStmt":
        st.kind = "COMMENT"
        what = node.objtype.name
        parts = [p.sval for p in node.object] if isinstance(node.object, tuple) else []
        if what == "OBJECT_TABLE" and parts:
            _lock(st, parts[-1], "SHARE UPDATE EXCLUSIVE")
        elif what == "OBJECT_COLUMN" and len(parts) >= 2:
            _lock(st, parts[-2], "SHARE UPDATE EXCLUSIVE")
    elif kind == "AlterEnumStmt":
        st.kind = "ALTER TYPE ADD VALUE" if node.newVal and not node.oldVal else "ALTER TYPE RENAME VALUE"
        # A label added in a transaction cannot be used before it commits: run it on its own.
        st.transactional = st.kind != "ALTER TYPE ADD VALUE"
    elif kind == "CreateEnumStmt":
        st.kind = "CREATE TYPE"
    elif kind == "DoStmt":
        st.kind = "DO block"
    elif kind == "TransactionStmt":
        st.kind = "TRANSACTION"
    elif kind == "CreatedbStmt":
        st.kind = "CREATE DATABASE"
    elif kind == "DropdbStmt":
        st.kind = "DROP DATABASE"
    elif kind == "AlterSystemStmt":
        st.kind = "ALTER SYSTEM"
    else:
        st.kind = kind.removesuffix("Stmt")


def analyze(sql: str) -> list[Statement]:
    """Every statement of a script with what it does; transaction control statements are dropped."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    raw = sql.encode()
    out = []
    try:
        parsed = parse_sql(sql)
    except ParseError as exc:
        message, location = exc.args[0], exc.args[1] if len(exc.args) > 1 else None
        offset = len(raw[: int(location)].decode(errors="ignore")) if location is not None else None
        raise SqlSyntaxError(str(message), offset) from None
    for item in parsed:
        start = item.stmt_location or 0
        length = item.stmt_len or len(raw) - start
        chunk = raw[start : start + length].decode()
        text = chunk.strip()
        leading = len(chunk) - len(chunk.lstrip())
        st = Statement(text, "", node=item.stmt, offset=len(raw[:start].decode()) + leading)
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
