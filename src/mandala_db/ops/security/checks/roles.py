"""Roles: superusers, stray attributes, and the role the URL logs in as."""

from __future__ import annotations

from mandala_db.core.database import quote_ident
from mandala_db.ops.security.checks.registry import Check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import FAIL, Finding


@check(
    "role.superusers",
    "one superuser at most",
    "medium",
    "ALTER ROLE name NOSUPERUSER for each role that does not need it",
    cis="4.3",
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
    cis="4.3",
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
    return [
        c.finding(FAIL, f"holds {', '.join(r[1])}", object=f"role {r[0]}",
                  sql=f"ALTER ROLE {quote_ident(r[0])} {' '.join('NO' + a for a in r[1])}")
        for r in rows
    ]  # fmt: skip


@check(
    "role.application",
    "the role the URL logs in as is not privileged, cannot become a privileged role, and owns nothing",
    "high",
    "give the application its own role with DML only (`security recommend` writes the SQL)",
    cis="4.3",
)
def _application_role(c: Check, facts: Facts) -> list[Finding]:
    out: list[Finding] = []
    me = f"role {facts.role}"
    protected = facts.environment in ("staging", "production")
    for severity, what, how in facts.graph.powers(facts.role):
        if what == "is a superuser":
            # Where the embedded server is the default (development, test) its superuser is expected: low.
            out += c.failed("the URL logs in as a superuser: any SQL injection owns the whole server", object=me,
                            severity="high" if protected else "low")  # fmt: skip
        else:
            out += c.failed(f"the URL's role {what} ({how})", object=me, severity=severity)
    if facts.attributes.get("createdb") and not facts.superuser:
        out += c.failed("the URL's role holds CREATEDB", object=me, severity="low")
    owner = facts.conn.execute(
        "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s", (facts.schema,)
    ).fetchone()
    if owner and owner[0] == facts.role:
        out += c.failed(
            f"the URL's role owns schema {facts.schema}: it can drop or alter any table (fine for a migrator, not an application)",
            object=me,
            severity="medium",
        )
    owned = facts.conn.execute(
        """SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
             AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
           ORDER BY 1"""
    ).fetchall()
    if owned and not facts.superuser:
        names = [r[0] for r in owned]
        out += c.failed(
            f"the URL's role owns {len(names)} relation(s) ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): "
            "it can ALTER, DROP or TRUNCATE them, and grant them away (fine for a migrator, not an application)",
            object=me,
            severity="medium",
        )
    return out or c.passed(f"{facts.role} is a plain role that reaches no privileged role and owns nothing")


@check(
    "role.reachable",
    "no login role can become a superuser or reach the operating system, all data, or role management",
    "high",
    "REVOKE the membership on the chain shown (REVOKE group FROM role), or NOCREATEROLE / NOBYPASSRLS",
    cis="4.8",
)
def _reachable(c: Check, facts: Facts) -> list[Finding]:
    graph = facts.graph
    out: list[Finding] = []
    logins = sorted(r.name for r in graph.roles.values() if r.login and not r.superuser)
    for name in logins:
        for severity, what, how in graph.powers(name):
            chain = how.removeprefix("through ")
            sql = (
                f"REVOKE {quote_ident(chain.split(' -> ')[1])} FROM {quote_ident(name)}"
                if how.startswith("through ")
                else None
            )
            out.append(c.finding(FAIL, f"{what} ({how})", object=f"role {name}", severity=severity, sql=sql))  # fmt: skip
    return out or c.passed(
        f"{len(logins)} login role(s) other than superusers, none reaches a privileged role"
    )


@check(
    "role.expiry",
    "login roles with passwords expire where expiry is the policy, and none is past its date",
    "low",
    "ALTER ROLE name VALID UNTIL 'YYYY-MM-DD' (or DROP ROLE a role no longer used)",
    cis="4.4",
)
def _expiry(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT rolname, rolvaliduntil::text, rolvaliduntil < now() FROM pg_roles
           WHERE rolcanlogin AND NOT rolsuper AND rolname NOT LIKE 'pg\\_%%' ORDER BY 1"""
    ).fetchall()
    out: list[Finding] = []
    for name, until, past in rows:
        if past:
            out += c.failed(f"VALID UNTIL {until} has passed: the role is kept but cannot log in with its password",
                            object=f"role {name}")  # fmt: skip
    dated = [r for r in rows if r[1] and r[1] != "infinity"]
    if dated:  # some roles expire: that is the policy, and a role that never does breaks it
        for name, until, _ in rows:
            if not until or until == "infinity":
                out += c.failed("never expires, while other login roles do", object=f"role {name}")
    return out or c.passed(f"{len(rows)} login role(s), none past its VALID UNTIL")
