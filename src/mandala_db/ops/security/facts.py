"""What the security checks read, gathered once from one connection: the role and its attributes, the
settings it may see, this session's encryption, and the parts of the catalog that only a superuser (or a
member of the right predefined role) can read, with the reason when they cannot be read."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.graph import PrivilegeGraph

# Settings the checks read. Those a role may not see are missing from pg_settings for it.
SETTINGS = (
    "ssl",
    "ssl_min_protocol_version",
    "password_encryption",
    "log_connections",
    "log_disconnections",
    "log_statement",
    "log_line_prefix",
    "shared_preload_libraries",
    "data_checksums",
    "archive_mode",
    "server_version_num",
    "server_version",
    "listen_addresses",
    "log_error_verbosity",
    "log_min_messages",
    "log_min_error_statement",
    "debug_print_parse",
    "debug_print_rewritten",
    "debug_print_plan",
    "debug_pretty_print",
    "log_hostname",
    "log_file_mode",
    "unix_socket_permissions",
    "lo_compat_privileges",
    "allow_system_table_mods",
    "authentication_timeout",
    "ssl_ciphers",
)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(url: DatabaseURL) -> bool:
    """The connection never leaves this machine: a Unix socket, or a loopback address."""
    hosts = [h for h, _ in url.hosts if h]
    socket_or_host = url.param_dict.get("host", "")
    if not hosts:
        return not socket_or_host or socket_or_host.startswith("/") or _is_loopback(socket_or_host)
    return all(_is_loopback(h) for h in hosts)


def uses_socket(url: DatabaseURL) -> bool:
    hosts = [h for h, _ in url.hosts if h]
    socket = url.param_dict.get("host", "")
    return not hosts and (not socket or socket.startswith("/"))


# (role, kind of its password hash); pg_authid is readable by superusers only.
PASSWORD_KINDS = """SELECT rolname, CASE WHEN rolpassword LIKE 'md5%' THEN 'md5'
                               WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram-sha-256' ELSE 'other' END
                    FROM pg_authid WHERE rolpassword IS NOT NULL ORDER BY rolname"""


@dataclass
class Facts:
    db: Database
    conn: psycopg.Connection[Any]
    role: str = ""
    attributes: dict[str, bool] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    session_ssl: tuple[bool, str | None] = (False, None)
    schema: str = "public"
    backup_dir: Path | None = None  # where this installation keeps its backups and drill history
    environment: str = "development"  # development, test, staging or production

    @classmethod
    def gather(cls, db: Database, conn: psycopg.Connection[Any]) -> Facts:
        facts = cls(db, conn, schema=db.schema)
        row = conn.execute(
            """SELECT current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
                      r.rolbypassrls, pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
               FROM pg_roles r WHERE r.rolname = current_user"""
        ).fetchone()
        assert row is not None
        facts.role = str(row[0])
        facts.attributes = dict(
            zip(
                ("superuser", "createrole", "createdb", "replication", "bypassrls", "read_settings"),
                row[1:],
                strict=True,
            )
        )
        facts.settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(SETTINGS),)
            ).fetchall()
        )
        ssl = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        facts.session_ssl = (bool(ssl[0]), ssl[1]) if ssl else (False, None)
        return facts

    @property
    def superuser(self) -> bool:
        return bool(self.attributes.get("superuser"))

    @property
    def local(self) -> bool:
        return is_local(self.db.url)

    def setting(self, name: str) -> str | None:
        """None when this role may not read it."""
        return self.settings.get(name)

    @cached_property
    def hba(self) -> tuple[list[dict[str, Any]] | None, str]:
        """pg_hba.conf as the server reads it, or None with the reason it cannot be read."""
        try:
            with self.conn.transaction():
                rows = self.conn.execute(
                    """SELECT line_number, type, database, user_name, address, netmask, auth_method, error
                       FROM pg_hba_file_rules ORDER BY line_number"""
                ).fetchall()
        except psycopg.errors.InsufficientPrivilege:
            return None, "not enough privilege: pg_hba_file_rules needs a superuser (or a grant of it)"
        keys = ("line", "type", "database", "user_name", "address", "netmask", "auth_method", "error")
        return [dict(zip(keys, r, strict=True)) for r in rows], ""

    @cached_property
    def hba_reload(self) -> tuple[tuple[Any, Any] | None, str]:
        """(pg_hba.conf's modification time, when the server last loaded its configuration), or None with
        the reason: pg_hba_file_rules shows the file, which is not what is enforced until it is reloaded."""
        try:
            with self.conn.transaction():
                row = self.conn.execute(
                    "SELECT (pg_stat_file(current_setting('hba_file'))).modification, pg_conf_load_time()"
                ).fetchone()
        except psycopg.errors.InsufficientPrivilege:
            return (
                None,
                "not enough privilege: reading pg_hba.conf's date needs a superuser or pg_read_server_files",
            )
        except psycopg.Error as exc:
            return None, f"could not read pg_hba.conf's date: {exc.diag.message_primary or exc}"
        assert row is not None
        return (row[0], row[1]), ""

    @cached_property
    def password_hashes(self) -> tuple[list[tuple[str, str]] | None, str]:
        """(role, hash kind) of every role with a password, or None with the reason."""
        if not self.superuser:
            return None, "not enough privilege: password hashes (pg_authid) are visible to superusers only"
        rows = self.conn.execute(PASSWORD_KINDS).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows], ""

    @cached_property
    def graph(self) -> PrivilegeGraph:
        """Every role and membership (pg_roles and pg_auth_members are readable by any role)."""
        return PrivilegeGraph.read(self.conn)

    @cached_property
    def superusers(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolsuper AND rolcanlogin ORDER BY rolname"
        ).fetchall()
        return [str(r[0]) for r in rows]
