"""`security apply-roles`: the least-privilege roles `recommend` writes, created and granted in one
transaction, idempotently: what changed is read from the audit before and after, so a second run says
(and does) nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core.blockers import LockPolicy, backoff, blockers_anywhere, describe, is_lock_timeout
from mandala_db.core.database import Database
from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus
from mandala_db.ops.security.audit import QUERIES, AuditSnapshot, compare
from mandala_db.ops.security.graph import PrivilegeGraph
from mandala_db.ops.security.recommend import role_sql

WATCHED = ("roles", "schema grants", "table grants", "default privileges", "owners")


@dataclass
class RolesApplied:
    statements: list[str]
    changes: list[str]
    dry_run: bool
    over_privileged: list[str] = field(default_factory=list)  # roles left with more than their group gives

    def to_dict(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "changes": self.changes,
            "dry_run": self.dry_run,
            "over_privileged": self.over_privileged,
        }


def over_privileged(conn: Any) -> list[str]:
    """Login roles that hold more than least privilege allows: a privileged role reachable, or the right to
    change the schema or the tool's tables outside the migrator. apply-roles names them; it does not take
    away what a human granted."""
    graph = PrivilegeGraph.read(conn)
    out = [
        f"role {name}: {what} ({how})"
        for name, r in sorted(graph.roles.items())
        if r.login and not r.superuser and not name.startswith("pg_")
        for severity, what, how in graph.powers(name)
        if severity in ("high", "medium")
    ]
    return out


def _privileges(conn: Any) -> AuditSnapshot:
    return AuditSnapshot(
        "", {name: sorted(str(r[0]) for r in conn.execute(QUERIES[name]).fetchall()) for name in WATCHED}
    )


def apply_roles(
    db: Database, *, dry_run: bool, confirm: Callable[[str], None], locks: LockPolicy = LockPolicy()
) -> RolesApplied:
    statements = [line.text for line in role_sql(db.schema)]
    if dry_run:
        return RolesApplied(statements, [], True)
    confirm(f"Create the roles and grants of `security recommend` on {db} ({len(statements)} statements)")
    with db.connect() as conn:
        for attempt in range(1, max(1, locks.tries) + 1):
            try:
                with conn.transaction():
                    # A GRANT waits for the lock of its table: behind an open transaction, give up after
                    # lock_timeout (all of it rolled back) and try again, never wait without a limit.
                    conn.execute(f"SET LOCAL lock_timeout = '{locks.timeout}'")
                    before = _privileges(conn)
                    for statement in statements:
                        conn.execute(statement.encode())
                    after = _privileges(conn)
                named = over_privileged(conn)
                break
            except psycopg.Error as exc:
                if not is_lock_timeout(exc):
                    raise
                if attempt < locks.tries:
                    pause = backoff(attempt)
                    bus.warning("lock_timeout", f"apply-roles: a table is locked by another session; try "
                                f"{attempt} of {locks.tries}, again in {pause:.1f} s", attempt=attempt)  # fmt: skip
                    time.sleep(pause)
                    continue
                raise OperationFailed(
                    f"apply-roles could not get its locks in {locks.tries} tries (lock_timeout {locks.timeout} "
                    f"each): blocked by {describe(blockers_anywhere(conn))}; nothing was changed",
                    "end or wait for that session, then run again",
                ) from None
    diff = compare(before, after)
    changes = [f"added {k}: {row}" for k, rows in diff.added.items() for row in rows]
    changes += [f"removed {k}: {row}" for k, rows in diff.removed.items() for row in rows]
    changes += [f"changed {row}" for row in diff.changed]
    for line in named:
        bus.warning("over_privileged", f"apply-roles left alone, for a human to decide: {line}")
    return RolesApplied(statements, changes, False, named)
