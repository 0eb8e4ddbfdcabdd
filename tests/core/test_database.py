"""core/database: the handle every operation takes and its connections. A failure to connect is one line
with what to do, and never the password; the session carries the tool's application_name; a session that
ended under us (terminated, shut down) is told apart from every other error; the engine is sized by the URL."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import psycopg
import pytest

from conftest import SENTINEL_PASSWORD, assert_no_secret, connect_to
from mandala_db.core.database import Database, connect, make_engine, quote_ident, server_gone, server_version
from mandala_db.core.errors import OperationFailed
from mandala_db.core.url import DatabaseURL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_server_that_is_not_there_is_one_line_with_the_next_step() -> None:
    url = DatabaseURL.parse(f"postgresql://app:{SENTINEL_PASSWORD}@127.0.0.1:{free_port()}/app")
    with pytest.raises(OperationFailed) as failed:
        connect(url)
    message = str(failed.value)
    assert message.startswith("cannot connect to postgresql://app:****@127.0.0.1:") and "\n" not in message
    assert "check that the server is running" in (failed.value.hint or "")
    assert_no_secret(message, SENTINEL_PASSWORD)


def test_a_wrong_password_says_so_and_shows_neither_password(password_server: DatabaseURL) -> None:
    wrong = password_server.with_password("Wrong-pw-e5d1!")
    with pytest.raises(OperationFailed) as failed:
        connect(wrong)
    assert "password authentication failed" in failed.value.message
    assert failed.value.hint == "check the user and password in the URL"
    assert_no_secret(str(failed.value), "Wrong-pw-e5d1!", SENTINEL_PASSWORD)


def test_a_database_that_does_not_exist_is_named(db_url: DatabaseURL) -> None:
    with pytest.raises(OperationFailed, match='database "mdb_nowhere" does not exist') as failed:
        connect(db_url.with_database("mdb_nowhere"))
    assert failed.value.hint == "create the database or fix its name"


def test_sessions_carry_the_tools_name_and_a_handle_moves_between_databases(db_url: DatabaseURL) -> None:
    db = Database(db_url).named("mandala-db:test")
    with db.connect(suffix=":probe") as conn:
        assert conn.execute("SHOW application_name").fetchone() == ("mandala-db:test:probe",)
        assert server_version(conn)[:2].isdigit()
    assert (
        db.on("postgres").url.dbname == "postgres" and db.on("postgres").application_name == "mandala-db:test"
    )


def test_a_terminated_session_is_told_apart_from_other_errors(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    with connect_to(db_url) as victim:
        conn.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError) as gone:
            victim.execute("SELECT 1")
    assert server_gone(gone.value)
    with pytest.raises(psycopg.errors.UndefinedTable) as other:
        conn.execute("SELECT * FROM nowhere")
    assert server_gone(other.value) == "" and server_gone(ValueError("server closed the connection")) == ""


def test_the_engine_pool_is_sized_by_the_url(db_url: DatabaseURL) -> None:
    pooled = make_engine(dataclasses.replace(db_url, params=(*db_url.params, ("connection_limit", "3"))))
    assert pooled.pool.size() == 3  # type: ignore[attr-defined]
    with make_engine(db_url).connect() as c:
        assert c.exec_driver_sql("SELECT 1").scalar() == 1


def test_an_identifier_is_quoted_with_its_quotes_doubled() -> None:
    assert quote_ident('we"ird name') == '"we""ird name"'
