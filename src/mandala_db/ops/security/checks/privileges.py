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
    cis="4.6",
)
def _public_create(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT nspname FROM pg_namespace n WHERE nspname NOT IN ('pg_catalog', 'information_schema')
             AND nspname NOT LIKE 'pg\\_%%'
             AND EXISTS (SELECT 1 FROM aclexplode(coalesce(nspacl, acldefault('n', nspowner)))
                         WHERE grantee = 0 AND privilege_type = 'CREATE') ORDER BY 1"""
    ).fetchall()
    if not rows:
        return c.passed("no schema of the database grants CREATE to PUBLIC")
    return [
        c.finding(FAIL, "every role may create objects here (and shadow functions others call)", object=f"schema {r[0]}",
                  sql=f"REVOKE CREATE ON SCHEMA {quote_ident(r[0])} FROM PUBLIC")
        for r in rows
    ]  # fmt: skip


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

# Schemas that belong to PostgreSQL itself; every other one is judged, not only public and the application's.
_USER_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
    AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'"""
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
_WRITES = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
_KINDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
}


@check(
    "object.public-grants",
    "no table, view, sequence or column grants anything to PUBLIC",
    "high",
    "REVOKE ALL ON <object> FROM PUBLIC, then GRANT what each role needs to that role",
    cis="4.6",
)
def _public_grants(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        f"""SELECT n.nspname, c.relname, c.relkind::text, array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                 aclexplode(c.relacl) a
            WHERE a.grantee = 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMAS}
              AND {_NOT_EXTENSION.format(oid="c.oid")}
            GROUP BY 1, 2, 3 ORDER BY 1, 2"""
    ).fetchall()
    columns = facts.conn.execute(
        f"""SELECT n.nspname, c.relname, att.attname, array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
            FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
                 aclexplode(att.attacl) a
            WHERE a.grantee = 0 AND att.attacl IS NOT NULL AND {_USER_SCHEMAS}
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    ).fetchall()
    out: list[Finding] = []
    for schema, name, kind, privileges in rows:
        target = f"{quote_ident(schema)}.{quote_ident(name)}"
        writes = sorted(set(privileges) & _WRITES)
        out.append(c.finding(FAIL, f"PUBLIC holds {', '.join(privileges)}: every role, present and future, may "
                             + ("change it" if writes else "read it"), object=f"{_KINDS[kind]} {schema}.{name}",
                             severity="high" if writes else "medium",
                             sql=f"REVOKE ALL ON {target} FROM PUBLIC"))  # fmt: skip
    for schema, name, column, privileges in columns:
        out.append(c.finding(FAIL, f"PUBLIC holds {', '.join(privileges)} on the column",
                             object=f"column {schema}.{name}.{column}",
                             severity="high" if set(privileges) & _WRITES else "medium",
                             sql=f"REVOKE ALL ({quote_ident(column)}) ON {quote_ident(schema)}.{quote_ident(name)} FROM PUBLIC"))  # fmt: skip
    return out or c.passed("no relation or column in any schema grants to PUBLIC")


@check(
    "object.default-privileges",
    "no default privilege hands future objects to PUBLIC",
    "medium",
    "ALTER DEFAULT PRIVILEGES FOR ROLE owner [IN SCHEMA s] REVOKE ... FROM PUBLIC",
    cis="4.6",
)
def _default_privileges(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT pg_get_userbyid(d.defaclrole), coalesce(n.nspname, ''), d.defaclobjtype::text,
                  array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
           FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
           WHERE a.grantee = 0 AND d.defaclobjtype <> 'f' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    ).fetchall()
    kinds = {"r": "TABLES", "S": "SEQUENCES", "T": "TYPES", "n": "SCHEMAS", "f": "FUNCTIONS"}
    out: list[Finding] = []
    for owner, schema, kind, privileges in rows:
        where = f" IN SCHEMA {quote_ident(schema)}" if schema else ""
        out.append(c.finding(FAIL, f"every new {kinds.get(kind, kind).lower()[:-1]} {owner} creates{' in ' + schema if schema else ''} "
                             f"grants {', '.join(privileges)} to PUBLIC", object=f"default privileges of {owner}",
                             sql=f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(owner)}{where} REVOKE ALL ON {kinds.get(kind, 'TABLES')} FROM PUBLIC"))  # fmt: skip
    return out or c.passed("no default privilege grants to PUBLIC")


@check(
    "database.public-privileges",
    "PUBLIC cannot create schemas or temporary tables in the database",
    "medium",
    "REVOKE CREATE, TEMPORARY ON DATABASE db FROM PUBLIC",
    cis="4.6",
)
def _database_public(c: Check, facts: Facts) -> list[Finding]:
    row = facts.conn.execute(
        """SELECT current_database(), array(SELECT a.privilege_type FROM aclexplode(coalesce(datacl, acldefault('d', datdba))) a
                                      WHERE a.grantee = 0 ORDER BY 1)
           FROM pg_database WHERE datname = current_database()"""
    ).fetchone()
    assert row is not None
    name, privileges = row
    out: list[Finding] = []
    if "CREATE" in privileges:
        out += c.failed("PUBLIC may CREATE schemas in this database", object=f"database {name}",
                        sql=f"REVOKE CREATE ON DATABASE {quote_ident(name)} FROM PUBLIC")  # fmt: skip
    if "TEMPORARY" in privileges:
        out += c.failed("PUBLIC may create temporary tables (PostgreSQL's default): temporary objects can shadow "
                        "others in a search_path that puts pg_temp first", object=f"database {name}", severity="low",
                        sql=f"REVOKE TEMPORARY ON DATABASE {quote_ident(name)} FROM PUBLIC")  # fmt: skip
    return out or c.passed(f"PUBLIC holds {', '.join(privileges) or 'nothing'} on database {name}")


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
            WHERE NOT p.prosecdef AND {_USER_SCHEMAS} AND p.prokind IN ('f', 'p')
              AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
              AND NOT coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%%'), false)
              AND {_NOT_EXTENSION.format(oid="p.oid")} ORDER BY 1"""
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
            WHERE p.prosecdef AND r.rolsuper AND {_USER_SCHEMAS} AND {_NOT_EXTENSION.format(oid="p.oid")} ORDER BY 1"""
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
              WHERE v.relkind IN ('v', 'm') AND {_USER_SCHEMAS} AND NOT {invoker})
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
    "tool.tables-writable",
    "no role but the migrator can write the tool's own tables",
    "high",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON the table FROM the role (`security apply-roles` does)",
    cis="4.6",
)
def _tool_tables(c: Check, facts: Facts) -> list[Finding]:
    rows = facts.conn.execute(
        """SELECT c.relname, r.rolname,
                  array(SELECT p FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
                        WHERE has_table_privilege(r.oid, c.oid, p) ORDER BY 1)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN pg_roles r
           WHERE n.nspname = %s AND c.relkind = 'r' AND (c.relname = 'alembic_version' OR c.relname LIKE 'mandala\\_%%')
             AND r.rolcanlogin AND NOT r.rolsuper AND r.oid <> c.relowner
             AND NOT pg_has_role(r.oid, c.relowner, 'USAGE')
           ORDER BY 1, 2""",
        (facts.schema,),
    ).fetchall()
    out = [
        c.finding(FAIL, f"{role} may {', '.join(p)} it: it can rewrite what the tool knows of the schema's history",
                  object=f"table {facts.schema}.{table}",
                  sql=f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {quote_ident(facts.schema)}.{quote_ident(table)} FROM {quote_ident(role)}")
        for table, role, p in rows if p
    ]  # fmt: skip
    return out or c.passed(f"the tool's tables in {facts.schema} are written by their owner only")


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


@check(
    "object.unexpected-grants",
    "objects grant only to the least-privilege groups (the migrator, the application, read-only)",
    "low",
    "grant to mandala_app / mandala_readonly and make the login a member, then REVOKE the direct grant",
    cis="4.6",
)
def _unexpected_grants(c: Check, facts: Facts) -> list[Finding]:
    from mandala_db.ops.security.recommend import APPLICATION, MIGRATOR, READONLY

    expected = [MIGRATOR, APPLICATION, READONLY]
    rows = facts.conn.execute(
        f"""SELECT 'relation', n.nspname || '.' || c.relname, a.grantee::regrole::text,
                   array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type),
                   format('%%I.%%I', n.nspname, c.relname), CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE '' END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
            WHERE a.grantee <> 0 AND a.grantee <> c.relowner AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND {_USER_SCHEMAS} AND {_NOT_EXTENSION.format(oid="c.oid")}
              AND a.grantee::regrole::text <> ALL(%(expected)s)
              AND NOT pg_has_role(a.grantee, c.relowner, 'USAGE')
            GROUP BY 1, 2, 3, 5, 6
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, a.grantee::regrole::text, array_agg(DISTINCT a.privilege_type),
                   p.oid::regprocedure::text, 'FUNCTION '
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
            WHERE a.grantee <> 0 AND a.grantee <> p.proowner AND {_USER_SCHEMAS}
              AND {_NOT_EXTENSION.format(oid="p.oid")} AND a.grantee::regrole::text <> ALL(%(expected)s)
              AND NOT pg_has_role(a.grantee, p.proowner, 'USAGE')
            GROUP BY 1, 2, 3, 5, 6
            ORDER BY 1, 2, 3""",
        {"expected": expected},
    ).fetchall()
    out: list[Finding] = []
    for kind, name, grantee, privileges, target, keyword in rows:
        writes = set(privileges) & _WRITES
        out.append(c.finding(FAIL, f"{grantee} holds {', '.join(privileges)} directly, outside the least-privilege "
                             "groups: nobody reviews it with them", object=f"{kind} {name}",
                             severity="medium" if writes else "low",
                             sql=f"REVOKE ALL ON {keyword}{target} FROM {quote_ident(grantee)}"))  # fmt: skip
    return out or c.passed("every grant goes to an owner, PUBLIC (judged apart) or a least-privilege group")
