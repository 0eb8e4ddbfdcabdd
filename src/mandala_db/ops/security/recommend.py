"""`security recommend`: the URLs to use, the server configuration lines and the SQL for least-privilege
roles, each line with why it is there and which of this database's failing findings it fixes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mandala_db.core.database import quote_ident
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.findings import Finding

MIGRATOR, APPLICATION, READONLY = "mandala_migrator", "mandala_app", "mandala_readonly"


@dataclass
class Line:
    text: str
    why: str
    fixes: list[str] = field(default_factory=list)  # "id" or "id on object" of failing findings

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "why": self.why, "fixes": self.fixes}


@dataclass
class Section:
    title: str
    lines: list[Line]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "lines": [ln.to_dict() for ln in self.lines]}


@dataclass
class Recommendation:
    sections: list[Section]

    def to_dict(self) -> dict[str, Any]:
        return {"sections": [s.to_dict() for s in self.sections]}

    def section(self, title: str) -> Section:
        return next(s for s in self.sections if s.title == title)


def _base(url: DatabaseURL) -> str:
    """scheme://user:****@hosts/db, the password always masked."""
    user = quote(url.user or "USER", safe="")
    auth = f"{user}:****@" if url.password is not None else f"{user}@"
    hosts = (
        ",".join(f"[{h}]:{p or 5432}" if ":" in h else f"{h}:{p or 5432}" for h, p in url.hosts if h)
        or "HOST:5432"
    )
    return f"postgresql://{auth}{hosts}/{quote(url.dbname or 'DBNAME', safe='')}"


def role_sql(schema: str) -> list[Line]:
    """Least-privilege roles: a migrator that owns the schema and everything in it, an application role with
    DML on the application's tables only (none on the tool's own), a read-only role, and default privileges
    for the migrator and for the role that runs this (the one that really creates objects when it migrates),
    so tables created later are covered too. Idempotent: a second run changes nothing."""
    s = quote_ident(schema)
    literal = schema.replace("'", "''")
    return [
        Line(_CREATE_ROLES, "three group roles (NOLOGIN): give people and services LOGIN roles that are members of them",
             ["role.application"]),
        Line(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC", "only the migrator creates objects in the schema",
             ["schema.public-create"]),
        Line(f"ALTER SCHEMA {s} OWNER TO {MIGRATOR}", "the migrator owns the schema; the application never does",
             ["role.application"]),
        Line(_migrator_owns(literal), "and every table, view, sequence and function already in it (each change is in the plan)",
             ["role.application", "object.owner-superuser"]),
        Line(f"GRANT USAGE ON SCHEMA {s} TO {APPLICATION}, {READONLY}", "both may look up objects in the schema"),
        Line(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {APPLICATION}",
             "the application reads and writes rows, and cannot change the schema", ["role.application"]),
        Line(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {APPLICATION}", "the application can insert rows with serial ids"),
        Line(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {READONLY}", "reporting and support read, never write"),
        *_default_privileges(s),
        Line(_tool_tables_read_only(literal), "but nobody except the migrator writes the tool's own tables (the revision "
             "record, the run ledger, the seed records): run again after a new one appears", ["tool.tables-writable"]),
    ]  # fmt: skip


_CREATE_ROLES = (
    "DO $$ BEGIN\n"
    + "".join(
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE {r} NOLOGIN; END IF;\n"
        for r in (MIGRATOR, APPLICATION, READONLY)
    )
    + "END $$"
)


def _migrator_owns(literal: str) -> str:
    """The migrator takes over what is already in the schema (extension members and implicit objects
    stay with their owners)."""
    return (
        "DO $$ DECLARE o record; BEGIN\n"
        "  FOR o IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        f"           WHERE n.nspname = '{literal}' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')\n"
        f"             AND c.relowner <> '{MIGRATOR}'::regrole\n"
        "             AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))\n"
        "  LOOP\n"
        f"    EXECUTE format('ALTER %s %I.%I OWNER TO {MIGRATOR}', CASE o.relkind WHEN 'v' THEN 'VIEW'\n"
        "      WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,\n"
        f"      '{literal}', o.relname);\n"
        "  END LOOP;\n"
        "  FOR o IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace\n"
        f"           WHERE n.nspname = '{literal}' AND t.typtype IN ('e', 'd') AND t.typowner <> '{MIGRATOR}'::regrole\n"
        "             AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')\n"
        "  LOOP\n"
        f"    EXECUTE format('ALTER TYPE %I.%I OWNER TO {MIGRATOR}', '{literal}', o.typname);\n"
        "  END LOOP;\n"
        "  FOR o IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace\n"
        f"           WHERE n.nspname = '{literal}' AND p.prokind IN ('f', 'p') AND p.proowner <> '{MIGRATOR}'::regrole\n"
        "             AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')\n"
        "  LOOP\n"
        f"    EXECUTE format('ALTER ROUTINE %s OWNER TO {MIGRATOR}', o.f);\n"
        "  END LOOP;\n"
        "END $$"
    )


def _tool_tables_read_only(literal: str) -> str:
    return (
        "DO $$ DECLARE t record; BEGIN\n"
        "  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        f"           WHERE n.nspname = '{literal}' AND c.relkind = 'r'\n"
        "             AND (c.relname = 'alembic_version' OR c.relname LIKE 'mandala\\_%')\n"
        "  LOOP\n"
        f"    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I.%I FROM {APPLICATION}, {READONLY}', "
        f"'{literal}', t.relname);\n"
        "  END LOOP;\n"
        "END $$"
    )


def _default_privileges(s: str) -> list[Line]:
    """For the migrator and for the role that runs this (the one that really creates objects when it
    migrates), so tables created later are covered too."""
    defaults = []
    for who in (MIGRATOR, "CURRENT_USER"):
        for_role = f"FOR ROLE {who} " if who != "CURRENT_USER" else ""
        label = (
            "the migrator"
            if who == MIGRATOR
            else "the role running this (which creates objects when it migrates)"
        )
        defaults += [
            Line(f"ALTER DEFAULT PRIVILEGES {for_role}IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APPLICATION}",
                 f"tables {label} creates later are covered without a new grant"),
            Line(f"ALTER DEFAULT PRIVILEGES {for_role}IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {APPLICATION}",
                 "so are their sequences"),
            Line(f"ALTER DEFAULT PRIVILEGES {for_role}IN SCHEMA {s} GRANT SELECT ON TABLES TO {READONLY}",
                 "and the read-only role's view of them"),
        ]  # fmt: skip
    return defaults


class _Fixes:
    """Which failing findings a recommended line fixes, named as `check` names them."""

    def __init__(self, failing: list[Finding]) -> None:
        self.failing = failing

    def __call__(self, *ids: str) -> list[str]:
        return sorted({f"{f.id} on {f.object}" if f.object else f.id for f in self.failing if f.id in ids})


def recommend(url: DatabaseURL, findings: list[Finding]) -> Recommendation:
    failing = [f for f in findings if f.failing]
    fixes = _Fixes(failing)
    roles = [Line(ln.text, ln.why, fixes(*ln.fixes)) for ln in role_sql(url.schema)]
    # Only statements a check wrote for its object: advice in words ("keep only what the role needs") is
    # shown by `check`, never printed here as if it were SQL.
    per_object = [Line(f.sql, f"{f.id} on {f.object}: {f.evidence}", [f"{f.id} on {f.object}"])
                  for f in failing if f.object and f.sql]  # fmt: skip
    sections = [
        Section("URLs", _urls(url, fixes)),
        Section("postgresql.conf", _conf(fixes)),
        Section("pg_hba.conf", _hba(url, fixes)),
        Section("roles (SQL; `security apply-roles` runs it)", roles),
    ]
    if per_object:
        sections.append(Section("this database's objects (SQL)", per_object))
    return Recommendation(sections)


def _urls(url: DatabaseURL, fixes: _Fixes) -> list[Line]:
    base = _base(url)
    app_params = "sslmode=verify-full&sslrootcert=/etc/ssl/certs/db-ca.pem&connect_timeout=10&statement_timeout=30s&connection_limit=10&pool_timeout=10"
    if url.schema != "public":
        app_params += f"&schema={url.schema}"
    libpq_params = "sslmode=verify-full&sslrootcert=/etc/ssl/certs/db-ca.pem&connect_timeout=10&options=-c%20statement_timeout%3D30000"
    return [
        Line(f"DATABASE_URL={base}?{app_params}",
             "for the application and mandala-db, which applies statement_timeout, connection_limit and pool_timeout itself",
             fixes("conn.sslmode", "conn.timeouts", "conn.pool", "conn.encrypted")),
        Line(f"{base}?{libpq_params}",
             "for psql, pg_dump and drivers: libpq rejects statement_timeout, connection_limit and pool_timeout in a URL",
             fixes("conn.sslmode", "conn.timeouts", "conn.encrypted")),
        Line("sslmode=verify-full", "encrypts and checks that the certificate names this host: require alone lets a man in the middle pass"),
        Line("sslrootcert=...", "the CA that signed the server's certificate (RDS: the region's bundle)"),
        Line("connect_timeout=10", "a dead host fails in 10 s instead of hanging"),
        Line("statement_timeout", "a runaway query is cancelled instead of holding locks and connections"),
        Line("connection_limit, pool_timeout", "one service cannot take every connection the server has"),
    ]  # fmt: skip


def _conf(fixes: _Fixes) -> list[Line]:
    return [
        Line("ssl = on", "TLS for every TCP client", fixes("server.ssl", "conn.encrypted")),
        Line("ssl_min_protocol_version = 'TLSv1.2'", "no TLS 1.0 or 1.1", fixes("server.tls-version")),
        Line("password_encryption = 'scram-sha-256'", "new passwords stored as SCRAM, not MD5",
             fixes("server.password-encryption", "server.md5-passwords")),
        Line("log_connections = on", "who connected, from where", fixes("log.connections")),
        Line("log_disconnections = on", "and for how long", fixes("log.disconnections")),
        Line("log_statement = 'ddl'", "every schema change is in the log", fixes("log.statement")),
        Line("log_line_prefix = '%m [%p] user=%u db=%d app=%a client=%h '", "each line says when, which process, who and from where",
             fixes("log.line_prefix")),
        Line("shared_preload_libraries = 'pgaudit'  # then: CREATE EXTENSION pgaudit; pgaudit.log = 'ddl,role'",
             "an audit trail of DDL and role changes", fixes("server.pgaudit")),
    ]  # fmt: skip


def _hba(url: DatabaseURL, fixes: _Fixes) -> list[Line]:
    return [
        Line("local   all   postgres                      peer", "the superuser only from the server itself",
             fixes("hba.remote-superuser", "hba.auth-method")),
        Line(f"hostssl {url.dbname or 'DBNAME'}  {APPLICATION},{MIGRATOR},{READONLY}  10.0.0.0/16  scram-sha-256",
             "TLS only, named database and roles, the application's network only, SCRAM passwords",
             fixes("hba.tls-only", "hba.scope", "hba.auth-method", "conn.plaintext-refused")),
        Line("hostnossl all   all   0.0.0.0/0   reject", "anything without TLS is refused outright",
             fixes("hba.tls-only", "conn.plaintext-refused")),
    ]  # fmt: skip
