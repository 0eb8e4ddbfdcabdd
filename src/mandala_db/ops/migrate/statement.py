"""One statement of a revision as PostgreSQL's parser reads it, and the helpers that read its parse tree:
the names it refers to, the tables it reads, the lock it takes on each."""

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


def take_lock(st: Statement, table: str, mode: str) -> None:
    if table:
        st.locks[table] = strongest(st.locks.get(table), mode)


def has_option(options: Any, name: str) -> bool:
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
