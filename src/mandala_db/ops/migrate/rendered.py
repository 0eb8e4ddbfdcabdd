"""A revision as the executor runs it: its SQL rendered offline by Alembic, its checksum, and its statements
as PostgreSQL's parser reads them. What `migrate plan` shows is exactly what runs.

Rendering needs Alembic and SQLAlchemy (about half a second of imports) and parsing needs pglast, so the
result is kept in a cache, like Python's own __pycache__: keyed by the bytes of the revision file, of the
migration environment it renders through, and the versions of the tool, Alembic and SQLAlchemy. A changed
file is a new key; a damaged or unreadable entry is rendered again. No cache directory, no caching.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from mandala_db import __version__
from mandala_db.core.errors import BadInput
from mandala_db.core.ledger import Direction
from mandala_db.migrations import SCRIPT_LOCATION
from mandala_db.ops.migrate.analysis import SqlSyntaxError, Statement, analyze, needs_autocommit
from mandala_db.ops.migrate.loader import Revision
from mandala_db.ops.migrate.locate import line_in_source

if TYPE_CHECKING:
    from mandala_db.ops.migrate.runner import AlembicRunner

FORMAT = 3  # bump when what is stored changes


@dataclass
class RenderedStep:
    revision: str
    direction: Direction
    sql: str
    checksum: str
    statements: list[Statement]

    @property
    def split(self) -> bool:
        """Some statement cannot run in a transaction: the revision runs group by group, resumably."""
        return needs_autocommit(self.statements)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "revision": self.revision,
                "direction": self.direction,
                "sql": self.sql,
                "checksum": self.checksum,
                "statements": [
                    {
                        "sql": s.sql,
                        "kind": s.kind,
                        "transactional": s.transactional,
                        "locks": s.locks,
                        "rewrites": sorted(s.rewrites),
                        "creates": sorted(s.creates),
                        "index": s.index,
                        "renames": s.renames,
                        "index_locks": s.index_locks,
                        "offset": s.offset,
                    }
                    for s in self.statements
                ],
            }
        )

    @classmethod
    def from_json(cls, text: str, revision: str, direction: Direction) -> RenderedStep | None:
        try:
            doc = json.loads(text)
            if doc["format"] != FORMAT or (doc["revision"], doc["direction"]) != (revision, direction):
                return None
            statements = [
                Statement(
                    s["sql"],
                    s["kind"],
                    s["transactional"],
                    dict(s["locks"]),
                    set(s["rewrites"]),
                    set(s["creates"]),
                    s["index"],
                    renames=dict(s["renames"]),
                    index_locks=dict(s["index_locks"]),
                    offset=int(s["offset"]),
                )
                for s in doc["statements"]
            ]
            return cls(revision, direction, doc["sql"], doc["checksum"], statements)
        except (ValueError, KeyError, TypeError):
            return None


def plan_digest(steps: list[tuple[str, str]]) -> str:
    """The sha256 of a plan: each pending revision's id and the checksum of its SQL, in order. What `plan`
    prints for review and what `--expect-plan` holds a deploy to."""
    return hashlib.sha256("".join(f"{rev} {checksum}\n" for rev, checksum in steps).encode()).hexdigest()


@cache
def _environment_digest() -> str:
    """What every rendering goes through besides the revision file: env.py and the helpers the revisions
    import, and the versions of the engines."""
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}".encode())
    for name in ("alembic", "sqlalchemy"):
        try:
            digest.update(f"\0{name} {metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{name} missing".encode())
    for path in sorted(SCRIPT_LOCATION.glob("*.py")):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Renderer:
    """Rendered steps, from the cache when it has them, else from Alembic (loaded only then)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir / "rendered" if cache_dir else None
        self._runner: AlembicRunner | None = None
        self._steps: dict[str, RenderedStep] = {}  # this run's, by key: rendered once even with no cache

    @property
    def runner(self) -> AlembicRunner:
        if self._runner is None:
            from mandala_db.ops.migrate.runner import AlembicRunner

            self._runner = AlembicRunner()
        return self._runner

    def forget_runner(self) -> None:
        """Revision files were written since the runner read its script directory (migrate dev)."""
        self._runner = None
        self._steps.clear()

    def _key(self, rev: Revision, direction: Direction) -> str:
        digest = hashlib.sha256(_environment_digest().encode())
        digest.update(f"\0{rev.id}\0{direction}\0".encode() + rev.path.read_bytes())
        return digest.hexdigest()

    def step(self, rev: Revision, direction: Direction) -> RenderedStep:
        key = self._key(rev, direction)
        if key not in self._steps:
            self._steps[key] = self._step(rev, direction, key)
        return self._steps[key]

    def _step(self, rev: Revision, direction: Direction, key: str) -> RenderedStep:
        path = self.cache_dir / f"{key}.json" if self.cache_dir else None
        if path is not None:
            try:
                found = RenderedStep.from_json(path.read_text(encoding="utf-8"), rev.id, direction)
            except OSError:
                found = None
            if found is not None:
                return found
        from mandala_db.ops.migrate.runner import sql_checksum

        sql = self.runner.revision_sql(rev, direction)
        step = RenderedStep(rev.id, direction, sql, sql_checksum(sql), analyze_revision(rev, sql))
        if path is not None:
            _write_atomically(path, step.to_json())
        return step


def analyze_revision(rev: Revision, sql: str) -> list[Statement]:
    """The statements of a revision's rendered SQL; SQL the parser refuses is named by file and line."""
    try:
        return analyze(sql)
    except SqlSyntaxError as exc:
        raise named_syntax_error(rev, sql, exc) from None


def named_syntax_error(rev: Revision, sql: str, exc: SqlSyntaxError) -> BadInput:
    """`revision file X.py, line N: syntax error at or near ...`: the statement the parser stopped in, found
    in the revision's source, with the parser's own message."""
    at = exc.offset if exc.offset is not None else 0
    start = sql.rfind(";", 0, at) + 1
    end = sql.find(";", at)
    fragment = sql[start : end if end >= 0 else len(sql)].strip()
    line = line_in_source(rev.source, Statement(fragment, "")) if fragment else None
    where = f", line {line}" if line else ""
    shown = " ".join(fragment.split())[:80]
    return BadInput(
        f"revision {rev.id} ({rev.path.name}{where}) does not parse: {exc.message}"
        + (f", in `{shown}`" if shown else ""),
        "fix the SQL in the revision file; nothing was run",
    )


def _write_atomically(path: Path, text: str) -> None:
    """Two runs may render the same step at once: each writes a file of its own and renames it, so a
    reader sees a whole entry or none. A cache that cannot be written is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        return
