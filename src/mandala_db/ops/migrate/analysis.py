"""What a revision's SQL does, read from PostgreSQL's own parser (pglast), never from regular expressions:
the statements one by one, which can run inside a transaction, the lock each takes on which table, and
whether it rewrites the table. `plan`, `lint` and the executor all read this.
"""

from __future__ import annotations

from mandala_db.ops.migrate.classify import classify
from mandala_db.ops.migrate.statement import (
    BOOKKEEPING_TABLES,
    LOCK_ORDER,
    SqlSyntaxError,
    Statement,
    nodes,
    object_name,
    read_tables,
    strongest,
)

__all__ = [
    "BOOKKEEPING_TABLES",
    "LOCK_ORDER",
    "SqlSyntaxError",
    "Statement",
    "analyze",
    "needs_autocommit",
    "nodes",
    "object_name",
    "read_tables",
    "strongest",
    "touched_tables",
]


def analyze(sql: str) -> list[Statement]:
    """Every statement of a script with what it does; transaction control statements are dropped."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    # pglast gives every position in characters (it converts libpg_query's byte offsets), so the text is
    # cut as a str: cutting the UTF-8 bytes split statements after a Japanese comment.
    out = []
    try:
        parsed = parse_sql(sql)
    except ParseError as exc:
        message, location = exc.args[0], exc.args[1] if len(exc.args) > 1 else None
        raise SqlSyntaxError(str(message), int(location) if location is not None else None) from None
    for item in parsed:
        start = item.stmt_location or 0
        length = item.stmt_len or len(sql) - start
        chunk = sql[start : start + length]
        text = chunk.strip()
        leading = len(chunk) - len(chunk.lstrip())
        st = Statement(text, "", node=item.stmt, offset=start + leading)
        classify(st, item.stmt)
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
