"""The objects that run code or decide what a reader sees: functions (their search_path, SECURITY DEFINER,
their owner), views with their owner's rights, row-level security and its policies, languages,
extensions, and objects owned by a superuser."""

from __future__ import annotations

from mandala_db.core.database import quote_ident
from mandala_db.ops.security.checks.registry import Check, check
from mandala_db.ops.security.checks.scope import NOT_EXTENSION, USER_SCHEMAS
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import FAIL, Finding


@check(
    "function.security-definer",
    "SECURITY DEFINER functions fix their search_path and are not executable by PUBLIC",
    "high",
    "ALTER FUNCTION f(...) SET search_path = pg_catalog, pg_temp; REVOKE EXECUTE ON FUNCTION f(...) FROM PUBLIC",
    cis="4.5",
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
                                 sql=f"ALTER FUNCTION {signature} SET search_path = pg_catalog, pg_temp"))  # fmt: skip
        if public:
            out.append(c.finding(FAIL, "PUBLIC may execute it with its owner's rights", object=f"function {signature}", severity="medium",
                                 sql=f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC"))  # fmt: skip
    return out or c.passed(
        f"{len(rows)} SECURITY DEFINER function(s), all with a fixed search_path and no PUBLIC execute"
    )


@check(
    "table.rls",
    "row-level security and its policies go together",
    "medium",
    "add policies to a table with RLS, or enable RLS where policies exist",
    cis="4.7",
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
                "policies exist but RLS is disabled: they are not enforced",
                object=f"table {table}",
                sql=f"ALTER TABLE {quote_ident(facts.schema)}.{quote_ident(table)} ENABLE ROW LEVEL SECURITY",
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


# -- every schema of the database ------------------------------------------------------------------------


@check(
    "function.search-path",
    "functions fix their search_path",
    "low",
    "ALTER FUNCTION f(...) SET search_path = pg_catalog, pg_temp (or the schemas it needs, pg_temp last)",
    cis="4.5",
)
def _function_search_path(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        f"""SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE NOT p.prosecdef AND {USER_SCHEMAS} AND p.prokind IN ('f', 'p')
              AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
              AND NOT coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%%'), false)
              AND {NOT_EXTENSION.format(oid="p.oid")} ORDER BY 1"""
    ).fetchall()
    # SECURITY DEFINER functions without one are function.security-definer's (high); these run as the caller.
    return [
        c.finding(FAIL, "resolves names through the caller's search_path: a schema earlier in it can redirect "
                  "what it calls", object=f"function {r[0]}",
                  sql=f"ALTER FUNCTION {r[0]} SET search_path = pg_catalog, pg_temp")
        for r in rows
    ] or c.passed("every function of the database's schemas fixes its search_path")  # fmt: skip


@check(
    "function.definer-superuser",
    "no SECURITY DEFINER function runs as a superuser",
    "medium",
    "ALTER FUNCTION f(...) OWNER TO a role with only what the function needs",
    cis="4.5",
)
def _definer_superuser(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        f"""SELECT p.oid::regprocedure::text, r.rolname, p.prosrc ~* '\\mexecute\\M|format\\s*\\('
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
            WHERE p.prosecdef AND r.rolsuper AND {USER_SCHEMAS} AND {NOT_EXTENSION.format(oid="p.oid")} ORDER BY 1"""
    ).fetchall()
    return [
        c.finding(FAIL, f"runs as the superuser {owner}" + (", and builds SQL at run time (an injection there owns "
                  "the server)" if dynamic else ""), object=f"function {signature}",
                  severity="high" if dynamic else "medium")
        for signature, owner, dynamic in rows
    ] or c.passed("no SECURITY DEFINER function is owned by a superuser")  # fmt: skip


@check(
    "view.owner-rights",
    "views do not show their readers, with the owner's rights, rows or tables the readers could not read",
    "high",
    "ALTER VIEW v SET (security_invoker = true) (PostgreSQL 15+), so the caller's rights and policies apply",
    cis="4.7",
)
def _view_owner_rights(c: Check, facts: Facts) -> list[Finding]:
    """A view runs with its owner's rights (splinter's security-definer view) unless it is
    `security_invoker` (15+). Over a row-level-secured table its readers see the rows the policies would
    hide (high); over a table a reader of the view may not read, the view hands that reader the table
    (medium: sometimes the design, a view as the only door; then a suppression with its reason says so)."""
    major = int(facts.setting("server_version_num") or 0) // 10000
    invoker = (
        "coalesce(v.reloptions::text[] @> ARRAY['security_invoker=true'], false)" if major >= 15 else "false"
    )
    rows = facts.conn.execute(
        f"""WITH reads AS (
              SELECT DISTINCT v.oid AS view, v.relkind, v.relowner, v.relacl, n.nspname AS vs, v.relname AS vn,
                     t.oid AS tab, t.relacl AS tacl, tn.nspname AS ts, t.relname AS tt, t.relrowsecurity AS rls
              FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace
              JOIN pg_rewrite rw ON rw.ev_class = v.oid JOIN pg_depend d ON d.objid = rw.oid AND d.classid = 'pg_rewrite'::regclass
              JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relkind IN ('r', 'p')
              JOIN pg_namespace tn ON tn.oid = t.relnamespace
              WHERE v.relkind IN ('v', 'm') AND {USER_SCHEMAS} AND NOT {invoker})
            SELECT vs, vn, relkind, ts, tt, true, NULL FROM reads WHERE rls
            UNION ALL
            SELECT DISTINCT vs, vn, relkind, ts, tt, false,
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
            FROM reads CROSS JOIN LATERAL aclexplode(reads.relacl) a
            WHERE NOT rls AND a.privilege_type = 'SELECT' AND a.grantee <> reads.relowner
              AND CASE WHEN a.grantee = 0
                       THEN NOT EXISTS (SELECT 1 FROM aclexplode(reads.tacl) b WHERE b.grantee = 0 AND b.privilege_type = 'SELECT')
                       ELSE NOT (SELECT rolsuper FROM pg_roles WHERE oid = a.grantee)
                            AND NOT has_table_privilege(a.grantee, reads.tab, 'SELECT')
                            AND NOT has_any_column_privilege(a.grantee, reads.tab, 'SELECT') END
            ORDER BY 1, 2, 4, 5, 7"""
    ).fetchall()
    found = []
    for vs, vn, kind, ts, tt, rls, reader in rows:
        fix = (f"ALTER VIEW {quote_ident(vs)}.{quote_ident(vn)} SET (security_invoker = true)"
               if major >= 15 and kind == "v" else None)  # fmt: skip
        what = "materialized view" if kind == "m" else "view"
        if rls:
            found.append(c.finding(FAIL, f"reads {ts}.{tt}, which has row-level security, with its owner's rights: "
                                   "its readers see the rows the policies would hide from them",
                                   object=f"{what} {vs}.{vn}", sql=fix))  # fmt: skip
        else:
            found.append(c.finding(FAIL, f"{reader} may read it but not {ts}.{tt}, which it reads with its owner's "
                                   f"rights: {reader} reads that table through it", severity="medium",
                                   object=f"{what} {vs}.{vn}", sql=fix,
                                   remediation=fix or "grant the readers the table, or keep the view as the "
                                   "only door and suppress this finding with the reason"))  # fmt: skip
    return found or c.passed("no view shows its readers, with its owner's rights, what they could not read")


@check(
    "policy.always-true",
    "row-level security policies restrict something",
    "medium",
    "write the policy's USING (and WITH CHECK) so it names whose rows a role may see, or drop it",
    cis="4.7",
)
def _always_true(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT schemaname, tablename, policyname, cmd FROM pg_policies
           WHERE permissive = 'PERMISSIVE' AND (qual = 'true' OR (qual IS NULL AND with_check = 'true'))
           ORDER BY 1, 2, 3"""
    ).fetchall()
    return [
        c.finding(FAIL, f"permissive policy for {cmd} whose condition is always true: it lets every row through",
                  object=f"policy {p} on {s}.{t}")
        for s, t, p, cmd in rows
    ] or c.passed("no permissive policy is always true")  # fmt: skip


@check(
    "language.untrusted",
    "no untrusted procedural language is installed",
    "medium",
    "DROP EXTENSION plpython3u (or the language) unless a reviewed function needs it",
)
def _untrusted(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        "SELECT lanname FROM pg_language WHERE NOT lanpltrusted AND lanname NOT IN ('c', 'internal') ORDER BY 1"
    ).fetchall()
    return [
        c.finding(FAIL, "functions in it run as the server's operating-system user, with no sandbox",
                  object=f"language {r[0]}")
        for r in rows
    ] or c.passed("only trusted languages are installed")  # fmt: skip


@check(
    "object.owner-superuser",
    "the application's objects are owned by the migrator, not a superuser",
    "low",
    "ALTER TABLE ... OWNER TO the migrator role (`security apply-roles` does)",
)
def _owned_by_superuser(c: Check, facts: Facts) -> list[Finding]:
    if facts.superuser:
        return c.skipped(
            "not applicable: the URL's role is a superuser (the owner here is expected to be it)"
        )
    rows = facts.conn.execute(
        """SELECT count(*), min(r.rolname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_roles r ON r.oid = c.relowner WHERE n.nspname = %s AND r.rolsuper AND c.relkind IN ('r', 'p', 'v', 'm', 'S')""",
        (facts.schema,),
    ).fetchone()
    if rows and rows[0]:
        return c.failed(f"{rows[0]} relation(s) of {facts.schema} are owned by the superuser {rows[1]}: every "
                        "migration then runs as a superuser", object=f"schema {facts.schema}")  # fmt: skip
    return c.passed(f"no relation of {facts.schema} is owned by a superuser")
