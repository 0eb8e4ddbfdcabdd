"""The security checks, one named unit each (as Supabase's splinter lints and the CIS PostgreSQL Benchmark
items that pgdsat implements): an id to suppress it by, the CIS number where one applies, a severity, and
the remediation. A check the role cannot run says `skipped` and why; it never says `pass`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from mandala_db.core.database import Database, quote_ident
from mandala_db.ops.security.facts import Facts, uses_socket
from mandala_db.ops.security.findings import FAIL, PASS, SKIPPED, Finding

# The newest minor release of each major version this table knows, and when it was written. A server
# behind it misses security fixes; a newer one only means the table is older than the server.
RELEASES_AS_OF = "2025-08-14"
NEWEST_MINOR = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}

NOT_LOCAL = "not applicable: the connection does not leave this machine (a Unix socket or loopback)"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: str
    remediation: str
    cis: str | None
    run: Callable[[Check, Facts], list[Finding]]

    def finding(self, status: str, evidence: str, **kw: Any) -> Finding:
        return Finding(
            id=self.id,
            title=self.title,
            severity=kw.pop("severity", self.severity),
            status=status,
            evidence=evidence,
            remediation=kw.pop("remediation", self.remediation if status == FAIL else ""),
            cis=self.cis,
            **kw,
        )

    def passed(self, evidence: str, **kw: Any) -> list[Finding]:
        return [self.finding(PASS, evidence, **kw)]

    def failed(self, evidence: str, **kw: Any) -> list[Finding]:
        return [self.finding(FAIL, evidence, **kw)]

    def skipped(self, reason: str, **kw: Any) -> list[Finding]:
        return [self.finding(SKIPPED, reason, **kw)]


CHECKS: list[Check] = []


def check(
    id: str, title: str, severity: str, remediation: str, cis: str | None = None
) -> Callable[[Callable[[Check, Facts], list[Finding]]], Check]:
    def register(fn: Callable[[Check, Facts], list[Finding]]) -> Check:
        unit = Check(id, title, severity, remediation, cis, fn)
        CHECKS.append(unit)
        return unit

    return register


def _setting_check(c: Check, facts: Facts, name: str, good: Callable[[str], bool]) -> list[Finding]:
    value = facts.setting(name)
    if value is None:
        return c.skipped(f"not enough privilege: {name} is visible only with pg_read_all_settings")
    return (c.passed if good(value) else c.failed)(f"{name} = {value!r}")


# -- this connection ------------------------------------------------------------------------------------


@check(
    "conn.encrypted",
    "this session is encrypted",
    "high",
    "connect with sslmode=verify-full (and sslrootcert); the server needs ssl = on",
    cis="5.5",
)
def _session_encrypted(c: Check, facts: Facts) -> list[Finding]:
    on, version = facts.session_ssl
    if on:
        return c.passed(f"pg_stat_ssl: encrypted with {version}")
    if facts.local:
        return c.skipped(NOT_LOCAL)
    return c.failed(
        "pg_stat_ssl: this session is not encrypted: passwords and data cross the network in clear"
    )


@check(
    "conn.sslmode",
    "the client authenticates the server (sslmode=verify-full)",
    "high",
    "add sslmode=verify-full&sslrootcert=/path/to/ca.pem to the URL",
)
def _sslmode(c: Check, facts: Facts) -> list[Finding]:
    mode = facts.db.url.param_dict.get("sslmode")
    if mode == "verify-full":
        verified = (
            " and the session is encrypted: the server's certificate was verified"
            if facts.session_ssl[0]
            else ""
        )
        return c.passed(f"sslmode=verify-full{verified}")
    if mode is None and facts.local:
        return c.skipped(NOT_LOCAL)
    if mode == "verify-ca":
        return c.failed("sslmode=verify-ca checks the CA but not the host name", severity="low")
    if mode == "require":
        return c.failed(
            "sslmode=require encrypts but does not authenticate the server: a man in the middle passes",
            severity="medium",
        )
    return c.failed(
        f"sslmode={mode or 'prefer (the default)'}: libpq may fall back to an unencrypted connection"
    )


@check(
    "conn.plaintext-refused",
    "the server refuses an unencrypted connection",
    "high",
    "pg_hba.conf: use hostssl (not host) lines for every TCP rule, or add hostnossl ... reject first",
    cis="5.5",
)
def _plaintext_probe(c: Check, facts: Facts) -> list[Finding]:
    """Proved, not inferred: one extra connection with sslmode=disable, which needs no privilege."""
    url = facts.db.url
    if uses_socket(url):
        return c.skipped("not applicable: a Unix socket carries no TLS")
    params = tuple((k, v) for k, v in url.params if k not in ("sslmode", "connect_timeout"))
    plain = Database(
        replace(url, params=(*params, ("sslmode", "disable"), ("connect_timeout", "5"))),
        "mandala-db:security-probe",
    )
    try:
        with plain.connect():
            pass
    except Exception as exc:  # refused or unreachable: which one is in the server's words
        text = str(getattr(exc, "message", "") or exc)
        if "no encryption" in text or "SSL" in text or "pg_hba.conf" in text:
            return c.passed("a connection with sslmode=disable was refused by the server")
        return c.skipped(
            f"the probe could not connect for another reason: {text.splitlines()[0] if text else exc}"
        )
    return c.failed(
        "a connection with sslmode=disable was accepted: any client may talk to this server in clear",
        severity="high" if not facts.local else "medium",
    )


@check(
    "conn.timeouts",
    "the URL bounds connecting and statements",
    "low",
    "add connect_timeout=10 and statement_timeout=30s (the tool applies it; libpq clients: options=-c statement_timeout=30000)",
)
def _timeouts(c: Check, facts: Facts) -> list[Finding]:
    p = facts.db.url.param_dict
    has_statement = "statement_timeout" in p or "statement_timeout" in p.get("options", "")
    missing = [
        n
        for n, ok in (("connect_timeout", "connect_timeout" in p), ("statement_timeout", has_statement))
        if not ok
    ]
    if missing:
        return c.failed(
            f"missing: {', '.join(missing)} (a hung server or query would hold the client forever)"
        )
    return c.passed("connect_timeout and statement_timeout are set")


@check(
    "conn.pool",
    "the URL sizes the pool",
    "low",
    "add connection_limit=N&pool_timeout=S (the guide's pool parameters; the tool applies them itself)",
)
def _pool(c: Check, facts: Facts) -> list[Finding]:
    p = facts.db.url.param_dict
    if "connection_limit" in p and "pool_timeout" in p:
        return c.passed(f"connection_limit={p['connection_limit']}, pool_timeout={p['pool_timeout']}")
    return c.failed(
        "connection_limit and pool_timeout are not both set: one client can exhaust max_connections"
    )


# -- the server ------------------------------------------------------------------------------------------


@check(
    "server.ssl",
    "the server offers TLS",
    "high",
    "postgresql.conf: ssl = on, with ssl_cert_file and ssl_key_file",
    cis="6.8",
)
def _server_ssl(c: Check, facts: Facts) -> list[Finding]:
    value = facts.setting("ssl")
    if value is None:
        return c.skipped("not enough privilege to read ssl")
    if value == "on":
        return c.passed("ssl = on")
    return c.failed(
        "ssl = off: no client can encrypt its connection", severity="high" if not facts.local else "medium"
    )


@check(
    "server.tls-version",
    "TLS 1.2 or newer only",
    "medium",
    "postgresql.conf: ssl_min_protocol_version = 'TLSv1.2'",
    cis="6.8",
)
def _tls_version(c: Check, facts: Facts) -> list[Finding]:
    if facts.setting("ssl") == "off":
        return c.skipped("not applicable: ssl is off")
    return _setting_check(c, facts, "ssl_min_protocol_version", lambda v: v in ("TLSv1.2", "TLSv1.3"))


@check(
    "server.password-encryption",
    "new passwords are stored as SCRAM",
    "high",
    "postgresql.conf: password_encryption = 'scram-sha-256'",
    cis="5.9",
)
def _password_encryption(c: Check, facts: Facts) -> list[Finding]:
    return _setting_check(c, facts, "password_encryption", lambda v: v == "scram-sha-256")


@check(
    "server.md5-passwords",
    "no password is stored as an MD5 hash",
    "high",
    "set password_encryption = 'scram-sha-256', then set each listed role's password again (ALTER ROLE ... PASSWORD)",
    cis="5.9",
)
def _md5_passwords(c: Check, facts: Facts) -> list[Finding]:
    hashes, why = facts.password_hashes
    if hashes is None:
        return c.skipped(why)
    md5 = [role for role, kind in hashes if kind == "md5"]
    if not md5:
        return c.passed(f"{len(hashes)} password(s), none MD5")
    return [
        c.finding(FAIL, "the password hash is MD5 (replayable, and cracked fast)", object=f"role {r}")
        for r in md5
    ]


def _hba_rules(
    c: Check, facts: Facts, judge: Callable[[dict[str, Any]], tuple[str, str] | None]
) -> list[Finding]:
    rules, why = facts.hba
    if rules is None:
        return c.skipped(why)
    found = []
    for rule in rules:
        verdict = judge(rule)
        if verdict is not None:
            severity, text = verdict
            who = f"{rule['type']} {','.join(rule['database'] or [])} {','.join(rule['user_name'] or [])}"
            where = (
                f" {rule['address']}{'/' + rule['netmask'] if rule['netmask'] else ''}"
                if rule["address"]
                else ""
            )
            found.append(
                c.finding(FAIL, f"line {rule['line']}: {who}{where} {rule['auth_method']}: {text}",
                          object=f"pg_hba.conf line {rule['line']}", severity=severity)
            )  # fmt: skip
    return found or c.passed(f"{len(rules)} rule(s) checked")


def _remote(rule: dict[str, Any]) -> bool:
    address = rule.get("address") or ""
    if rule["type"] == "local":
        return False
    return address not in ("127.0.0.1", "::1", "localhost", "samehost")


@check(
    "hba.auth-method",
    "pg_hba.conf authenticates with scram-sha-256 (or certificates)",
    "high",
    "replace trust, password and md5 with scram-sha-256 (or cert); reload with SELECT pg_reload_conf()",
    cis="5.2",
)
def _hba_auth(c: Check, facts: Facts) -> list[Finding]:
    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        method = rule["auth_method"]
        if method == "trust":
            return (
                "high" if _remote(rule) else "medium",
                "anyone who can reach it logs in as any user, no password",
            )
        if method == "password":
            return ("high", "the password is sent in clear")
        if method == "md5":
            return ("medium", "md5 is replayable; use scram-sha-256")
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.tls-only",
    "TCP rules accept only TLS (hostssl)",
    "high",
    "change host to hostssl for every rule that reaches beyond this machine",
    cis="5.5",
)
def _hba_tls(c: Check, facts: Facts) -> list[Finding]:
    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        if rule["type"] in ("host", "hostnossl") and rule["auth_method"] != "reject":
            return ("high" if _remote(rule) else "low", "accepts connections without TLS")
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.scope",
    "rules name their databases, users and a narrow address range",
    "medium",
    "name the database and role on each rule, and the smallest network that needs it (never 0.0.0.0/0)",
    cis="5.6",
)
def _hba_scope(c: Check, facts: Facts) -> list[Finding]:
    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        if rule["type"] == "local" or rule["auth_method"] == "reject":
            return None
        if rule["address"] == "all" or rule["netmask"] in ("0.0.0.0", "::"):
            return ("high", "open to every address")
        if (rule["database"] or []) == ["all"] and (rule["user_name"] or []) == ["all"] and _remote(rule):
            return ("low", "any user may reach any database from there")
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.remote-superuser",
    "superusers cannot log in from other machines",
    "medium",
    "limit superuser rules to local (peer) connections; give remote administrators predefined roles instead",
    cis="5.8",
)
def _hba_superuser(c: Check, facts: Facts) -> list[Finding]:
    supers = set(facts.superusers)

    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        users = set(rule["user_name"] or [])
        if _remote(rule) and rule["auth_method"] != "reject" and ("all" in users or users & supers):
            return ("medium", "a superuser may log in over the network")
        return None

    return _hba_rules(c, facts, judge)


def _log_check(
    name: str, title: str, cis: str, good: Callable[[str], bool], fix: str, severity: str = "medium"
) -> None:
    @check(f"log.{name.removeprefix('log_')}", title, severity, fix, cis=cis)
    def _run(c: Check, facts: Facts) -> list[Finding]:
        return _setting_check(c, facts, name, good)


_log_check(
    "log_connections",
    "connections are logged",
    "3.1.20",
    lambda v: v == "on",
    "postgresql.conf: log_connections = on",
)
_log_check(
    "log_disconnections",
    "disconnections are logged",
    "3.1.21",
    lambda v: v == "on",
    "postgresql.conf: log_disconnections = on",
)
_log_check(
    "log_statement",
    "schema changes are logged",
    "3.1.25",
    lambda v: v in ("ddl", "mod", "all"),
    "postgresql.conf: log_statement = 'ddl'",
)
_log_check(
    "log_line_prefix",
    "log lines say when, which process, who, where and from where",
    "3.1.24",
    lambda v: ("%m" in v or "%t" in v) and all(x in v for x in ("%p", "%u", "%d", "%a", "%h")),
    "postgresql.conf: log_line_prefix = '%m [%p] user=%u db=%d app=%a client=%h '",
    severity="low",
)


@check(
    "server.pgaudit",
    "pgAudit is loaded",
    "low",
    "shared_preload_libraries = 'pgaudit'; CREATE EXTENSION pgaudit; pgaudit.log = 'ddl,role'",
    cis="3.2",
)
def _pgaudit(c: Check, facts: Facts) -> list[Finding]:
    available = facts.conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit'").fetchone()
    if not available:
        return c.skipped("not applicable: pgaudit is not installed on this server")
    libraries = facts.setting("shared_preload_libraries")
    if libraries is None:
        return c.skipped("not enough privilege to read shared_preload_libraries")
    return (c.passed if "pgaudit" in libraries else c.failed)(f"shared_preload_libraries = {libraries!r}")


@check(
    "server.data-checksums",
    "data checksums detect silent corruption",
    "low",
    "initdb --data-checksums (or pg_checksums --enable while the server is stopped)",
    cis="1.3.3",
)
def _checksums(c: Check, facts: Facts) -> list[Finding]:
    return _setting_check(c, facts, "data_checksums", lambda v: v == "on")


@check(
    "server.archiver",
    "WAL archiving does not fail",
    "medium",
    "fix archive_command (see the server log), then watch pg_stat_archiver",
    cis="7.4",
)
def _archiver(c: Check, facts: Facts) -> list[Finding]:
    if facts.setting("archive_mode") in (None, "off"):
        return c.skipped(
            "not applicable: archive_mode is off" if facts.setting("archive_mode") else "not enough privilege"
        )
    row = facts.conn.execute(
        "SELECT failed_count, last_failed_time > coalesce(last_archived_time, '-infinity') FROM pg_stat_archiver"
    ).fetchone()
    if row and row[1]:
        return c.failed(f"the last archiving attempt failed ({row[0]} failure(s) in all)")
    return c.passed(f"no archiving failure since the last one succeeded ({row[0] if row else 0} in all)")


@check(
    "server.minor-version",
    "the server runs the newest minor release of its major version",
    "medium",
    "install the newest minor release (binary compatible: a restart, no dump and restore)",
    cis="1.4",
)
def _minor(c: Check, facts: Facts) -> list[Finding]:
    num = int(facts.setting("server_version_num") or 0)
    major, minor = num // 10000, num % 10000
    newest = NEWEST_MINOR.get(major)
    if newest is None:
        return c.skipped(
            f"not applicable: no release data for PostgreSQL {major} (table as of {RELEASES_AS_OF})"
        )
    text = (
        f"PostgreSQL {major}.{minor}; the newest this tool knows (as of {RELEASES_AS_OF}) is {major}.{newest}"
    )
    return (c.failed if minor < newest else c.passed)(text)


# -- roles and privileges --------------------------------------------------------------------------------


@check(
    "role.superusers",
    "one superuser at most",
    "medium",
    "ALTER ROLE name NOSUPERUSER for each role that does not need it",
    cis="4.2",
)
def _superusers(c: Check, facts: Facts) -> list[Finding]:
    supers = facts.superusers
    if len(supers) <= 1:
        return c.passed(f"superusers that can log in: {', '.join(supers) or 'none'}")
    return c.failed(f"{len(supers)} superusers can log in: {', '.join(supers)}")


@check(
    "role.attributes",
    "no stray CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS",
    "medium",
    "ALTER ROLE name NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS, keeping only what the role needs",
    cis="4.2",
)
def _attributes(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT rolname, array_remove(ARRAY[CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
                  CASE WHEN rolcreatedb THEN 'CREATEDB' END, CASE WHEN rolreplication THEN 'REPLICATION' END,
                  CASE WHEN rolbypassrls THEN 'BYPASSRLS' END], NULL)
           FROM pg_roles WHERE NOT rolsuper AND rolname NOT LIKE 'pg\\_%'
             AND (rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls) ORDER BY 1"""
    ).fetchall()
    if not rows:
        return c.passed("no role other than superusers holds these attributes")
    return [c.finding(FAIL, f"holds {', '.join(r[1])}", object=f"role {r[0]}") for r in rows]


@check(
    "role.application",
    "the role the URL logs in as is not privileged and does not own the schema",
    "high",
    "give the application its own role with DML only (`security recommend` writes the SQL)",
    cis="4.2",
)
def _application_role(c: Check, facts: Facts) -> list[Finding]:
    out: list[Finding] = []
    me = f"role {facts.role}"
    if facts.superuser:
        # Where the embedded server is the default (development, test) its superuser is expected: low.
        protected = facts.environment in ("staging", "production")
        out += c.failed("the URL logs in as a superuser: any SQL injection owns the whole server", object=me,
                        severity="high" if protected else "low")  # fmt: skip
    extra = [a.upper() for a in ("createrole", "createdb", "bypassrls") if facts.attributes.get(a)]
    if extra and not facts.superuser:
        out += c.failed(f"the URL's role holds {', '.join(extra)}", object=me, severity="medium")
    owner = facts.conn.execute(
        "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s", (facts.schema,)
    ).fetchone()
    if owner and owner[0] == facts.role:
        out += c.failed(
            f"the URL's role owns schema {facts.schema}: it can drop or alter any table (fine for a migrator, not an application)",
            object=me,
            severity="medium",
        )
    return out or c.passed(f"{facts.role} is a plain role that does not own {facts.schema}")


@check(
    "schema.public-create",
    "PUBLIC cannot create objects in the schemas",
    "high",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    cis="4.8",
)
def _public_create(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)
             AND EXISTS (SELECT 1 FROM aclexplode(coalesce(nspacl, acldefault('n', nspowner)))
                         WHERE grantee = 0 AND privilege_type = 'CREATE')""",
        (sorted({"public", facts.schema}),),
    ).fetchall()
    if not rows:
        return c.passed("no schema checked grants CREATE to PUBLIC")
    return [
        c.finding(FAIL, "every role may create objects here (and shadow functions others call)", object=f"schema {r[0]}",
                  remediation=f"REVOKE CREATE ON SCHEMA {quote_ident(r[0])} FROM PUBLIC")
        for r in rows
    ]  # fmt: skip


@check(
    "function.security-definer",
    "SECURITY DEFINER functions fix their search_path and are not executable by PUBLIC",
    "high",
    "ALTER FUNCTION f(...) SET search_path = pg_catalog, pg_temp; REVOKE EXECUTE ON FUNCTION f(...) FROM PUBLIC",
    cis="4.3",
)
def _security_definer(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT p.oid::regprocedure::text,
                  NOT coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%'), false),
                  EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))
                          WHERE grantee = 0 AND privilege_type = 'EXECUTE')
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
           ORDER BY 1"""
    ).fetchall()
    out: list[Finding] = []
    for signature, no_path, public in rows:
        if no_path:
            out.append(c.finding(FAIL, "runs with its owner's rights and the caller's search_path: a caller can make it run their own objects",
                                 object=f"function {signature}",
                                 remediation=f"ALTER FUNCTION {signature} SET search_path = pg_catalog, pg_temp"))  # fmt: skip
        if public:
            out.append(c.finding(FAIL, "PUBLIC may execute it with its owner's rights", object=f"function {signature}", severity="medium",
                                 remediation=f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC"))  # fmt: skip
    return out or c.passed(
        f"{len(rows)} SECURITY DEFINER function(s), all with a fixed search_path and no PUBLIC execute"
    )


@check(
    "table.rls",
    "row-level security and its policies go together",
    "medium",
    "add policies to a table with RLS, or enable RLS where policies exist",
    cis="4.5",
)
def _rls(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT c.relname, c.relrowsecurity, EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1""",
        (facts.schema,),
    ).fetchall()
    out: list[Finding] = []
    for table, rls, policies in rows:
        if rls and not policies:
            out += c.failed(
                "RLS is enabled with no policy: only the owner and BYPASSRLS roles see rows",
                object=f"table {table}",
            )
        elif policies and not rls:
            out += c.failed(
                "policies exist but RLS is disabled: they are not enforced", object=f"table {table}"
            )
    return out or c.passed(f"{len(rows)} table(s) in {facts.schema}")


@check(
    "schema.extensions",
    "extensions live outside the application's schema",
    "low",
    "ALTER EXTENSION name SET SCHEMA extensions",
)
def _extensions(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        "SELECT e.extname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = %s AND e.extname <> 'plpgsql'",
        (facts.schema,),
    ).fetchall()
    if not rows:
        return c.passed(f"no extension in {facts.schema}")
    return [c.finding(FAIL, f"installed in {facts.schema}", object=f"extension {r[0]}") for r in rows]


@check(
    "backup.freshness",
    "a recent good backup, and a recent drill that proved it restores",
    "medium",
    "schedule both: `mandala-db backup schedule --print cron` (or the workflow's schedule)",
)
def _freshness(c: Check, facts: Facts) -> list[Finding]:
    if facts.backup_dir is None or not facts.backup_dir.exists():
        return c.skipped(
            f"not applicable: no backup folder at {facts.backup_dir or 'BACKUP_DIR'} on this machine"
        )
    from mandala_db.ops.drill import freshness

    fresh = freshness(facts.backup_dir)
    out: list[Finding] = []
    backup_age, drill_age = fresh["newest_good_backup_age_s"], fresh["last_passed_drill_age_s"]
    if backup_age is None or backup_age > 26 * 3600:
        out += c.failed("no good full backup in the last 26 h" if backup_age is not None else "no good full backup at all",
                        object="backups")  # fmt: skip
    if drill_age is None or drill_age > 8 * 86400:
        out += c.failed("no passed drill in the last 8 days" if drill_age is not None else "no drill has passed yet",
                        object="drills", severity="low")  # fmt: skip
    return out or c.passed(
        f"newest good backup {backup_age / 3600:.1f} h old, last passed drill {drill_age / 86400:.1f} days ago"
    )


def run_all(facts: Facts) -> list[Finding]:
    """Every check; one that errors is reported as skipped with the server's words, never as passed."""
    out: list[Finding] = []
    for unit in CHECKS:
        try:
            with facts.conn.transaction():
                out += unit.run(unit, facts)
        except psycopg.errors.InsufficientPrivilege as exc:
            out += unit.skipped(f"not enough privilege: {exc.diag.message_primary or exc}")
        except psycopg.Error as exc:
            out += unit.skipped(f"could not run: {exc.diag.message_primary or exc}")
    return out
