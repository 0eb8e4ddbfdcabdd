"""Where a statement is in the file it came from, for editors, GitHub annotations and SARIF. A `.sql` file
knows exactly; a revision renders its SQL, so the statement is looked for in the Python source: its first
line as written (op.execute keeps the text), else the line naming its table and column."""

from __future__ import annotations

import re

from mandala_db.ops.migrate.analysis import Statement

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {
    "alter", "table", "add", "column", "constraint", "drop", "create", "index", "on", "concurrently", "unique",
    "not", "null", "default", "set", "type", "using", "update", "delete", "from", "where", "insert", "into",
    "values", "rename", "to", "primary", "key", "references", "check", "valid", "validate", "if", "exists",
    "and", "or", "cascade", "truncate", "lock", "in", "mode", "reindex", "cluster", "vacuum", "full", "is",
    "exclusive", "share", "access", "row", "varchar", "integer", "bigint", "text", "smallint", "boolean",
    "timestamp", "with", "time", "zone", "numeric", "uuid", "select", "returning", "only", "enum", "as",
    "materialized", "view", "refresh", "trigger", "function", "tablespace", "logged", "unlogged", "between",
}  # fmt: skip


def line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, max(0, offset)) + 1


def line_in_source(source: str, st: Statement) -> int | None:
    lines = source.splitlines()
    first = " ".join(st.sql.strip().splitlines()[0].split()) if st.sql.strip() else ""
    for width in (len(first), 60, 40, 24):
        probe = first[:width].strip()
        if len(probe) < 12:
            break
        for number, line in enumerate(lines, 1):
            if probe in " ".join(line.split()):
                return number
    names = [w for w in _WORD.findall(st.sql) if w.lower() not in _KEYWORDS]
    quoted = [re.compile(rf"[\"']{re.escape(n)}[\"']") for n in names]
    best: tuple[int, int] | None = None  # (names found on the line, -line)
    for number, line in enumerate(lines, 1):
        hits = sum(1 for q in quoted if q.search(line))
        if hits and (best is None or hits > best[0]):
            best = (hits, -number)
    return -best[1] if best else None
