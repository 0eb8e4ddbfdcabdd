"""Objects and their privileges: schemas, SECURITY DEFINER functions, row-level security, extensions."""

from __future__ import annotations

from mandala_db.core.database import quote_ident
from mandala_db.ops.security.checks.registry import Check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import FAIL, Finding


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
