"""The database handle every operation takes, and its connections: psycopg for the tool's own queries, a
SQLAlchemy engine for Alembic and the models."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import make_conninfo

from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

DEFAULT_CONNECT_TIMEOUT = "10"


def _explain(url: DatabaseURL, exc: Exception) -> OperationFailed | BadInput:
    """Turn libpq's multi-line error into one line, with what to do about it."""
    text = bus.scrub(str(exc)).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    reason = lines[-1] if lines else type(exc).__name__
    for ln in lines:  # the FATAL line is the most telling when there is one
        if "FATAL:" in ln:
            reason = ln.split("FATAL:", 1)[1].strip()
            break
    lowered = text.lower()
    where = url.render()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return OperationFailed(
            f"cannot connect to {where}: {reason}", "check the user and password in the URL"
        )
    if "does not exist" in lowered and "database" in lowered:
        return OperationFailed(f"cannot connect to {where}: {reason}", "create the database or fix its name")
    if "invalid" in lowered and ("connection option" in lowered or "uri" in lowered or "dsn" in lowered):
        return BadInput(f"the database URL {where} is malformed: {reason}")
    if (
        "timeout" in lowered
        or "refused" in lowered
        or "could not translate host" in lowered
        or "no route" in lowered
    ):
        return OperationFailed(
            f"cannot connect to {where}: {reason}",
            "check that the server is running and the host and port are right "
            "(`mandala-db migrate status test` shows what a connection sees)",
        )
    return OperationFailed(f"cannot connect to {where}: {reason}")


# What libpq and the server say when a session ends under us: a shutdown, a crash, a terminated backend.
_GONE = (
    "server closed the connection",
    "terminating connection",
    "connection is lost",
    "connection is closed",
    "consuming input failed",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "connection to server",
    "ssl syscall error",
    "could not receive data from server",
    "no connection to the server",
)


def server_gone(exc: BaseException) -> str:
    """Why the server went away, in one line, if that is what this error means (else ""): a psycopg
    error, or SQLAlchemy's wrapping of one, whose connection ended (AdminShutdown, a crash, a kill)."""
    orig = getattr(exc, "orig", None) or exc
    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return ""
    text = bus.scrub(str(orig)).strip()
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate.startswith("57P") or sqlstate.startswith("08") or any(g in text.lower() for g in _GONE):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        return (lines[0] if lines else type(orig).__name__)[:300]
    return ""


def connect(
    url: DatabaseURL, *, application_name: str = "mandala-db", autocommit: bool = True, **kwargs: Any
) -> psycopg.Connection[Any]:
    """Open one connection; the password goes to libpq in memory, never on a command line or in a message."""
    params = url.libpq_params(application_name=application_name)
    params.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    if url.password is not None:
        bus.add_secret(url.password)
        params["password"] = url.password
    try:
        conn = psycopg.connect(make_conninfo("", **params), autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        failure = _explain(url, exc)
        bus.debug("database_connection", failure.message, ok=False, host=url.host_label)
        raise failure from None
    bus.debug("database_connection", f"connected to {url.render()}", ok=True, host=url.host_label)
    return conn


def make_engine(url: DatabaseURL, *, application_name: str = "mandala-db") -> Engine:
    """A SQLAlchemy engine whose connections come from `connect`, sized by the URL's pool parameters."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool, QueuePool

    def creator() -> psycopg.Connection[Any]:
        return connect(url, application_name=application_name, autocommit=False)

    if url.connection_limit:
        return create_engine(
            "postgresql+psycopg://",
            creator=creator,
            poolclass=QueuePool,
            pool_size=url.connection_limit,
            max_overflow=0,
            pool_timeout=url.pool_timeout or 10,
        )
    # The CLI runs short sequential operations: pooling would only keep idle sessions open on the server.
    return create_engine("postgresql+psycopg://", creator=creator, poolclass=NullPool)


def server_version(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Database:
    """What an operation needs to reach its database: the URL (with its schema) and the name its sessions
    carry in pg_stat_activity. Every ops function takes one of these; none takes a bare URL or connection."""

    url: DatabaseURL
    application_name: str = "mandala-db"

    @property
    def schema(self) -> str:
        """The schema the URL configures (`?schema=`, else public)."""
        return self.url.schema

    def connect(self, *, autocommit: bool = True, suffix: str = "", **kwargs: Any) -> psycopg.Connection[Any]:
        return connect(
            self.url, application_name=self.application_name + suffix, autocommit=autocommit, **kwargs
        )

    def engine(self) -> Engine:
        return make_engine(self.url, application_name=self.application_name)

    def on(self, dbname: str) -> Database:
        """The same server and credentials, another database (a scratch copy, `postgres` for admin work)."""
        return replace(self, url=self.url.with_database(dbname))

    def named(self, application_name: str) -> Database:
        return replace(self, application_name=application_name)

    def __str__(self) -> str:
        return self.url.render()


def ensure_database(db: Database, name: str) -> bool:
    """Create database `name` on db's server (connecting to db) when it is missing; say whether this call
    created it.

    Two commands may get here at once (two first starts of the embedded server, two restores): the one
    that loses the race finds the database made, which is what it wanted."""
    with db.connect() as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        try:
            admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateDatabase):
            return False
        return True
