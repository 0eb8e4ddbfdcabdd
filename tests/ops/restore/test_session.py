"""ops/restore/session.py: the restore's one transaction, with a real psql. Nothing it was given commits
unless the tool writes COMMIT: not when psql's input ends, not when psql is killed, not when a check
fails; `abort` returns only once the server has let the session go; the SQL it writes (the locks, the
clearing of a schema, the row-count and revision check) does what it says inside that transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.core.tools import find_client
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.restore.guard import ScriptGuard
from mandala_db.ops.restore.session import (
    PsqlGone,
    RestoreTransaction,
    check_sql,
    clear_schema_sql,
    lock_tables_sql,
)


def tables(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def session(db_url: DatabaseURL, conn: psycopg.Connection[Any]) -> RestoreTransaction:
    major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000  # type: ignore[index]
    tx = RestoreTransaction(Database(db_url), find_client("psql", major))
    tx.begin()
    return tx


def feed(tx: RestoreTransaction, tmp_path: Path, script: bytes) -> None:
    """The script through the guard into psql, as a restore streams a backup (from a file descriptor)."""
    path = tmp_path / "backup.sql"
    path.write_bytes(script)
    with path.open("rb") as source:
        tx.pump(source, ScriptGuard("backup.sql"))


def sessions_named(conn: psycopg.Connection[Any], name: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
    ).fetchone()
    return int(row[0]) if row else 0


def test_what_psql_was_given_commits_only_with_the_tools_commit(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    tx = session(db_url, conn)
    feed(tx, tmp_path, b"CREATE TABLE restored (n int);\nINSERT INTO restored VALUES (1), (2);\n")
    snapshot = tx.check(check_sql({"restored": 2}, "public", None), "public")
    assert "restored" in snapshot.tables and "restored" not in tables(conn)  # inside, not yet outside
    tx.commit()
    assert "restored" in tables(conn) and tx.finished


def test_an_abort_leaves_the_target_as_it_was_and_returns_once_the_session_is_gone(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
    tx = session(db_url, conn)
    tx.write(b"DROP TABLE kept;\nCREATE TABLE half (n int);\n")
    tx.flush()
    tx.abort()
    assert sessions_named(conn, tx.application_name) == 0
    assert tables(conn) == {"kept"} and conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
    tx.abort()  # twice is harmless


def test_psql_killed_half_way_commits_nothing(db_url: DatabaseURL, conn: psycopg.Connection[Any]) -> None:
    tx = session(db_url, conn)
    tx.write(b"CREATE TABLE half (n int);\n")
    tx.flush()
    tx.psql.kill()  # as if the machine took it: its input ends without a COMMIT
    tx.psql.wait()
    with pytest.raises(PsqlGone):
        tx.commit()
    tx.abort()
    assert "half" not in tables(conn)


def test_a_check_that_does_not_hold_stops_psql_and_says_why(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    tx = session(db_url, conn)
    feed(tx, tmp_path, b"CREATE TABLE restored (n int);\nINSERT INTO restored VALUES (1);\n")
    with pytest.raises(PsqlGone):
        tx.check(check_sql({"restored": 5}, "public", None), "public")
    assert "restored has 1 rows after the restore, the manifest says 5" in tx.failure()
    tx.abort()
    assert "restored" not in tables(conn)


def test_clearing_a_schema_drops_its_objects_but_not_the_schema_nor_an_extensions(
    conn: psycopg.Connection[Any],
) -> None:
    # An extension whose functions land in public (which one the server ships varies: pgserver has no pgcrypto).
    found = conn.execute(
        "SELECT name FROM pg_available_extensions WHERE name = ANY(%s) ORDER BY name LIMIT 1",
        (["citext", "hstore", "pgcrypto", "vector"],),
    ).fetchone()
    if found:
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {found[0]} SCHEMA public")
    conn.execute(
        "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (m mood);"
        "CREATE VIEW v AS SELECT * FROM t; CREATE SEQUENCE s; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
    )

    class Undo(Exception):
        pass

    with pytest.raises(Undo), conn.transaction():
        conn.execute(clear_schema_sql("public"))
        left = conn.execute(
            """SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S')),
                      (SELECT count(*) FROM pg_type WHERE typname = 'mood'),
                      (SELECT count(*) FROM pg_proc WHERE proname = 'f'),
                      (SELECT count(*) > 0 FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
                       WHERE p.pronamespace = 'public'::regnamespace),
                      to_regnamespace('public') IS NOT NULL"""
        ).fetchone()
        assert left == (0, 0, 0, bool(found), True)
        raise Undo  # run inside the restore's transaction, it is undone with it
    assert tables(conn) == {"t"}


def test_the_tables_are_locked_within_lock_timeout_or_not_at_all(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("CREATE TABLE busy (n int)")
    with connect_to(db_url) as holder:
        holder.execute("BEGIN; LOCK TABLE busy IN ROW EXCLUSIVE MODE")
        with pytest.raises(psycopg.errors.LockNotAvailable), conn.transaction():
            conn.execute(lock_tables_sql("100ms"))
        holder.execute("ROLLBACK")
    with conn.transaction():
        conn.execute(lock_tables_sql("100ms"))
        held = conn.execute(
            "SELECT mode FROM pg_locks WHERE relation = 'busy'::regclass AND pid = pg_backend_pid()"
        ).fetchall()
    assert ("AccessExclusiveLock",) in held


def test_a_meta_command_is_refused_before_psql_reads_it(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    from mandala_db.core.errors import MandalaError

    planted = tmp_path / "ran"
    script = f"CREATE TABLE half (n int);\n\\! touch {planted}\n".encode()
    tx = session(db_url, conn)
    with pytest.raises(MandalaError, match=r"backup\.sql"):
        feed(tx, tmp_path, script)
    tx.abort()
    assert not planted.exists() and "half" not in tables(conn)
