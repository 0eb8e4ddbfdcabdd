"""`security audit`: who may do what, as a snapshot that can be saved in the repository (the desired
state, as pg_permissions keeps it) and compared with the live database: roles and their attributes and
memberships, grants on schemas, tables, sequences and functions, default privileges, row-level security
and policies, SECURITY DEFINER functions, and objects that no revision created."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput
from mandala_db.core.revision import current_revision
from mandala_db.ops.security.facts import PASSWORD_KINDS

FORMAT = 2  # 2: owners, column and database grants, role settings, memberships with their options
_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END"
_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp%'"
)

QUERIES = {
    "roles": """
        SELECT r.rolname || ':' || concat_ws(' ',
                   CASE WHEN r.rolcanlogin THEN 'LOGIN' END, CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
                   CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                   CASE WHEN r.rolreplication THEN 'REPLICATION' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
                   CASE WHEN NOT r.rolinherit THEN 'NOINHERIT' END,
                   CASE WHEN r.rolvaliduntil IS NOT NULL THEN 'VALID UNTIL ' || r.rolvaliduntil::text END,
                   CASE WHEN r.rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || r.rolconnlimit END)
        FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\\_%'""",
    "role settings": """
        SELECT coalesce(r.rolname, 'every role') || coalesce(' in database ' || d.datname, '') || ': '
               || array_to_string(s.setconfig, ', ')
        FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase
        WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))""",
    "owners": f"""
        SELECT 'database ' || datname || ' owned by ' || datdba::regrole::text FROM pg_database
        WHERE datname = current_database()
        UNION ALL
        SELECT 'schema ' || n.nspname || ' owned by ' || n.nspowner::regrole::text FROM pg_namespace n
        WHERE {_USER_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_toast%'
        UNION ALL
        SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'view ' ELSE 'table ' END
               || n.nspname || '.' || c.relname || ' owned by ' || c.relowner::regrole::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMAS}
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text || ' owned by ' || p.proowner::regrole::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {_USER_SCHEMAS} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "database grants": f"""
        SELECT 'database ' || datname || ': ' || {_GRANTEE} || ' ' || a.privilege_type
        FROM pg_database, aclexplode(coalesce(datacl, acldefault('d', datdba))) a
        WHERE datname = current_database() AND a.grantee <> datdba""",
    "column grants": f"""
        SELECT 'column ' || n.nspname || '.' || c.relname || '.' || att.attname || ': ' || {_GRANTEE} || ' '
               || a.privilege_type
        FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
             aclexplode(att.attacl) a
        WHERE att.attacl IS NOT NULL AND {_USER_SCHEMAS}""",
    "schema grants": f"""
        SELECT 'schema ' || n.nspname || ': ' || {_GRANTEE} || ' ' || a.privilege_type
               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
        FROM pg_namespace n, aclexplode(n.nspacl) a WHERE {_USER_SCHEMAS}""",
    "table grants": f"""
        SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'view ' ELSE 'table ' END
               || n.nspname || '.' || c.relname || ': ' || {_GRANTEE} || ' ' || a.privilege_type
               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_USER_SCHEMAS} AND a.grantee <> c.relowner""",
    "function grants": f"""
        SELECT 'function ' || p.oid::regprocedure::text || ': ' || {_GRANTEE} || ' ' || a.privilege_type
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
             aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        WHERE {_USER_SCHEMAS} AND a.grantee <> p.proowner
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "default privileges": f"""
        SELECT 'for ' || d.defaclrole::regrole::text || coalesce(' in schema ' || n.nspname, '') || ' on '
               || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                       WHEN 'T' THEN 'types' ELSE 'schemas' END
               || ': ' || {_GRANTEE} || ' ' || a.privilege_type
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a""",
    "row-level security": f"""
        SELECT 'table ' || n.nspname || '.' || c.relname || ': RLS ' || CASE WHEN c.relrowsecurity THEN 'on' ELSE 'off' END
               || CASE WHEN c.relforcerowsecurity THEN ', forced' ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND {_USER_SCHEMAS} AND (c.relrowsecurity OR c.relforcerowsecurity)
        UNION ALL
        SELECT 'policy ' || pol.polname || ' on ' || n.nspname || '.' || c.relname || ': ' || pol.polcmd::text
               || ' to ' || coalesce((SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE r::regrole::text END, ',')
                                      FROM unnest(pol.polroles) r), '')
               || coalesce(' using ' || pg_get_expr(pol.polqual, pol.polrelid), '')
               || coalesce(' check ' || pg_get_expr(pol.polwithcheck, pol.polrelid), '')
        FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace""",
    "security definer functions": f"""
        SELECT p.oid::regprocedure::text || ' owned by ' || p.proowner::regrole::text
               || coalesce(' with ' || array_to_string(p.proconfig, ', '), ' with no fixed settings')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND {_USER_SCHEMAS}
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
}


@dataclass
class AuditSnapshot:
    database: str
    sections: dict[str, list[str]]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "database": self.database, "sections": self.sections}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AuditSnapshot:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise ValueError(f"format {doc.get('format') if isinstance(doc, dict) else None!r}")
            sections = doc["sections"]
            if not isinstance(sections, dict) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v) for v in sections.values()
            ):
                raise ValueError("its sections are not lists of strings")
            return cls(str(doc["database"]), {str(k): list(v) for k, v in sections.items()})
        except FileNotFoundError:
            raise BadInput(
                f"{path} does not exist", "save one first with `security audit --save FILE`"
            ) from None
        except RecursionError:
            raise BadInput(
                f"{path} is not a saved security audit (nested too deep to read)",
                "save one with `security audit --save FILE`",
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadInput(
                f"{path} is not a saved security audit ({str(exc)[:200]})",
                "save one with `security audit --save FILE`",
            ) from None
        except OSError as exc:
            raise BadInput(f"{path} cannot be read: {exc.strerror}") from None


@dataclass
class AuditDiff:
    added: dict[str, list[str]]
    removed: dict[str, list[str]]
    changed: list[str] = field(default_factory=list)  # an owner that changed: "table X: owner A -> B"

    @property
    def empty(self) -> bool:
        return not any(self.added.values()) and not any(self.removed.values()) and not self.changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": {k: v for k, v in self.added.items() if v},
            "removed": {k: v for k, v in self.removed.items() if v},
            "changed": self.changed,
        }


def _unrecorded(db: Database, conn: psycopg.Connection[Any]) -> list[str]:
    """What the live schema holds that the revisions up to the current one do not build."""
    from mandala_db.core import catalog
    from mandala_db.ops.migrate.validate import history_snapshot

    live = catalog.take(conn, db.schema)
    expected = history_snapshot(db, current_revision(conn))
    return sorted(str(d) for d in catalog.compare(expected, live) if "missing" not in str(d))


def _memberships_sql(major: int) -> str:
    """Each membership with its options: ADMIN everywhere; INHERIT and SET are a membership's own on 16."""
    options = (
        "concat_ws(', ', CASE WHEN m.admin_option THEN 'ADMIN' END, CASE WHEN m.inherit_option THEN 'INHERIT' END, "
        "CASE WHEN m.set_option THEN 'SET' END)"
        if major >= 16
        else "concat_ws(', ', CASE WHEN m.admin_option THEN 'ADMIN' END, CASE WHEN mr.rolinherit THEN 'INHERIT' END, 'SET')"
    )
    return f"""SELECT mr.rolname || ' in ' || g.rolname || ' (' || {options} || ')'
               FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles mr ON mr.oid = m.member"""


def snapshot(db: Database) -> AuditSnapshot:
    with db.connect() as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        major = int(conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0])  # type: ignore[index]
        queries = {**QUERIES, "memberships": _memberships_sql(major)}
        sections = {
            name: sorted(str(r[0]) for r in conn.execute(sql).fetchall()) for name, sql in queries.items()
        }
        if sections["roles"]:
            hashes = _password_kinds(conn)
            if hashes is not None:
                sections["password hashes"] = hashes
        sections["objects no revision created"] = _unrecorded(db, conn)
    return AuditSnapshot(str(row[0]) if row else "", sections)


def _password_kinds(conn: psycopg.Connection[Any]) -> list[str] | None:
    try:
        with conn.transaction():
            rows = conn.execute(PASSWORD_KINDS).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return None  # visible to superusers only; the snapshot says nothing rather than something wrong
    return sorted(f"{r[0]}: {r[1]}" for r in rows)


def compare(saved: AuditSnapshot, live: AuditSnapshot) -> AuditDiff:
    names = sorted(set(saved.sections) | set(live.sections))
    added = {n: sorted(set(live.sections.get(n, [])) - set(saved.sections.get(n, []))) for n in names}
    removed = {n: sorted(set(saved.sections.get(n, [])) - set(live.sections.get(n, []))) for n in names}
    # An object whose owner changed is one change, not an object lost and another found.
    was = {
        line.rsplit(" owned by ", 1)[0]: line.rsplit(" owned by ", 1)[1] for line in removed.get("owners", [])
    }
    now = {
        line.rsplit(" owned by ", 1)[0]: line.rsplit(" owned by ", 1)[1] for line in added.get("owners", [])
    }
    changed = [f"{obj}: owner {was[obj]} -> {now[obj]}" for obj in sorted(set(was) & set(now))]
    if changed:
        moved = set(was) & set(now)
        added["owners"] = [x for x in added["owners"] if x.rsplit(" owned by ", 1)[0] not in moved]
        removed["owners"] = [x for x in removed["owners"] if x.rsplit(" owned by ", 1)[0] not in moved]
    return AuditDiff(added, removed, changed)
