"""`security apply-roles`: the least-privilege roles `recommend` writes, created and granted in one
transaction, idempotently: what changed is read from the audit before and after, so a second run says
(and does) nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mandala_db.core.database import Database
from mandala_db.ops.security.audit import QUERIES, AuditSnapshot, compare
from mandala_db.ops.security.recommend import role_sql

WATCHED = ("roles", "schema grants", "table grants", "default privileges")


@dataclass
class RolesApplied:
    statements: list[str]
    changes: list[str]
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {"statements": self.statements, "changes": self.changes, "dry_run": self.dry_run}


def _privileges(conn: Any) -> AuditSnapshot:
    return AuditSnapshot(
        "", {name: sorted(str(r[0]) for r in conn.execute(QUERIES[name]).fetchall()) for name in WATCHED}
    )


def apply_roles(db: Database, *, dry_run: bool, confirm: Callable[[str], None]) -> RolesApplied:
    statements = [line.text for line in role_sql(db.schema)]
    if dry_run:
        return RolesApplied(statements, [], True)
    confirm(f"Create the roles and grants of `security recommend` on {db} ({len(statements)} statements)")
    with db.connect() as conn, conn.transaction():
        before = _privileges(conn)
        for statement in statements:
            conn.execute(statement.encode())
        after = _privileges(conn)
    diff = compare(before, after)
    changes = [f"added {k}: {row}" for k, rows in diff.added.items() for row in rows]
    changes += [f"removed {k}: {row}" for k, rows in diff.removed.items() for row in rows]
    return RolesApplied(statements, changes, False)
