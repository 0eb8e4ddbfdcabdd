"""A revision's rendered SQL, run group by group: each run of statements that can share a transaction as one
transaction in one round trip, each statement that cannot (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD
VALUE, VACUUM) on its own; a rerun starts after the groups an earlier attempt finished."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from mandala_db.core.database import quote_ident
from mandala_db.core.events import bus
from mandala_db.core.revision import VERSION_TABLE, current_schema, version_table_exists
from mandala_db.ops.migrate.statement import Statement


def groups(statements: list[Statement]) -> list[list[Statement]]:
    groups: list[list[Statement]] = []
    for statement in statements:
        if statement.transactional and groups and groups[-1][0].transactional:
            groups[-1].append(statement)
        else:
            groups.append([statement])
    return groups


def already_built(conn: psycopg.Connection[Any], statement: Statement) -> bool:
    """Before (re)running CREATE INDEX CONCURRENTLY: a valid index of that name means an earlier run finished
    it; an INVALID one is the wreck of a build that was interrupted, and is dropped before the retry."""
    if not statement.kind.startswith("CREATE INDEX") or not statement.index:
        return False
    row = conn.execute(
        """SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           WHERE c.relname = %s AND c.relnamespace = %s::regnamespace""",
        (statement.index, quote_ident(current_schema(conn))),
    ).fetchone()
    if row is None:
        return False
    if row[0]:
        return True
    bus.warning("invalid_index", f"dropping the INVALID index {statement.index} left by an interrupted build")
    conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{statement.index}"')
    return False


def run_groups(
    work: psycopg.Connection[Any],
    revision: str,
    statements: list[Statement],
    resume: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Every group after the first `resume` statements; `progress` hears how many are done after each."""
    done = 0
    for group in groups(statements):
        if done + len(group) <= resume:
            done += len(group)
            continue
        if len(group) == 1 and not group[0].transactional:
            statement = group[0]
            if already_built(work, statement):
                bus.info(
                    "statement_skipped",
                    f"{revision}: index {statement.index} is already built",
                    migration=revision,
                )
            else:
                work.execute(statement.sql.encode())
        else:
            # Alembic creates its version table in the first revision's SQL; a database that has one
            # (left empty by a rollback to base, or stamped by hand) must not fail on creating it again.
            creates_version_table = any(s.creates == {VERSION_TABLE} for s in group)
            skip_version_table = creates_version_table and version_table_exists(work)
            body = ";\n".join(
                s.sql for s in group if not (skip_version_table and s.creates == {VERSION_TABLE})
            )
            with work.transaction():
                if body:
                    work.execute(body.encode())
        done += len(group)
        if progress is not None:
            progress(done)
