"""`security audit`: who may do what, as a snapshot that can be saved in the repository (the desired
state, as pg_permissions keeps it) and compared with the live database: roles and their attributes and
memberships, grants on schemas, tables, sequences and functions, default privileges, row-level security
and policies, SECURITY DEFINER functions, and objects that no revision created."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput
from mandala_db.core.revision import current_revision
from mandala_db.ops.security.facts import PASSWORD_KINDS

FORMAT = 1
_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END"
_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp%'"
)

QUERIES = {
    "roles": """
        SELECT r.rolname || ':' || concat_ws(' ',
                   CASE WHEN r.rolcanlogin THEN 'LOGIN' END, CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
                   CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                   CASE WHEN r.rolreplication THEN 'REPLICATION' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END)
               || coalesce(' member of ' || (SELECT string_agg(g.rolname, ',' ORDER BY g.rolname)
                                             FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                             WHERE m.member = r.oid), '')
        FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\\_%'""",
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

    @property
    def empty(self) -> bool:
        return not any(self.added.values()) and not any(self.removed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": {k: v for k, v in self.added.items() if v},
            "removed": {k: v for k, v in self.removed.items() if v},
        }


def _unrecorded(db: Database, conn: psycopg.Connection[Any]) -> list[str]:
    """What the live schema holds that the revisions up to the current one do not build."""
    from mandala_db.core import catalog
    from mandala_db.ops.migrate.validate import history_snapshot

    live = catalog.take(conn, db.schema)
    expected = history_snapshot(db, current_revision(conn))
    return sorted(str(d) for d in catalog.compare(expected, live) if "missing" not in str(d))


def snapshot(db: Database) -> AuditSnapshot:
    with db.connect() as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        sections = {
            name: sorted(str(r[0]) for r in conn.execute(sql).fetchall()) for name, sql in QUERIES.items()
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
    return AuditDiff(added, removed)
