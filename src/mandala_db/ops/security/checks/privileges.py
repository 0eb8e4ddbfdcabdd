"""Who may do what to the database's objects: grants to PUBLIC and to unexpected roles, default
privileges, the database's and the schemas' own, and the tool's tables."""

from __future__ import annotations

from mandala_db.core.database import quote_ident
from mandala_db.ops.security.checks.registry import Check, check
from mandala_db.ops.security.checks.scope import KINDS, NOT_EXTENSION, USER_SCHEMAS, WRITES
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
            WHERE a.grantee = 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {USER_SCHEMAS}
              AND {NOT_EXTENSION.format(oid="c.oid")}
            GROUP BY 1, 2, 3 ORDER BY 1, 2"""
    ).fetchall()
    columns = facts.conn.execute(
        f"""SELECT n.nspname, c.relname, att.attname, array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type)
            FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
                 aclexplode(att.attacl) a
            WHERE a.grantee = 0 AND att.attacl IS NOT NULL AND {USER_SCHEMAS}
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    ).fetchall()
    out: list[Finding] = []
    for schema, name, kind, privileges in rows:
        target = f"{quote_ident(schema)}.{quote_ident(name)}"
        writes = sorted(set(privileges) & WRITES)
        out.append(c.finding(FAIL, f"PUBLIC holds {', '.join(privileges)}: every role, present and future, may "
                             + ("change it" if writes else "read it"), object=f"{KINDS[kind]} {schema}.{name}",
                             severity="high" if writes else "medium",
                             sql=f"REVOKE ALL ON {target} FROM PUBLIC"))  # fmt: skip
    for schema, name, column, privileges in columns:
        out.append(c.finding(FAIL, f"PUBLIC holds {', '.join(privileges)} on the column",
                             object=f"column {schema}.{name}.{column}",
                             severity="high" if set(privileges) & WRITES else "medium",
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
              AND {USER_SCHEMAS} AND {NOT_EXTENSION.format(oid="c.oid")}
              AND a.grantee::regrole::text <> ALL(%(expected)s)
              AND NOT pg_has_role(a.grantee, c.relowner, 'USAGE')
            GROUP BY 1, 2, 3, 5, 6
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, a.grantee::regrole::text, array_agg(DISTINCT a.privilege_type),
                   p.oid::regprocedure::text, 'FUNCTION '
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
            WHERE a.grantee <> 0 AND a.grantee <> p.proowner AND {USER_SCHEMAS}
              AND {NOT_EXTENSION.format(oid="p.oid")} AND a.grantee::regrole::text <> ALL(%(expected)s)
              AND NOT pg_has_role(a.grantee, p.proowner, 'USAGE')
            GROUP BY 1, 2, 3, 5, 6
            ORDER BY 1, 2, 3""",
        {"expected": expected},
    ).fetchall()
    out: list[Finding] = []
    for kind, name, grantee, privileges, target, keyword in rows:
        writes = set(privileges) & WRITES
        out.append(c.finding(FAIL, f"{grantee} holds {', '.join(privileges)} directly, outside the least-privilege "
                             "groups: nobody reviews it with them", object=f"{kind} {name}",
                             severity="medium" if writes else "low",
                             sql=f"REVOKE ALL ON {keyword}{target} FROM {quote_ident(grantee)}"))  # fmt: skip
    return out or c.passed("every grant goes to an owner, PUBLIC (judged apart) or a least-privilege group")
