"""Prisma's ledger, `_prisma_migrations`, read before anything: a migration failed or left unfinished stops
the adoption (Prisma's own P3009 stops its deploys the same way), and with the migrations folder each applied
migration's checksum is held to its `migration.sql`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core.errors import BadInput, Refused

TABLE = "_prisma_migrations"


@dataclass(frozen=True)
class Migration:
    name: str
    checksum: str
    finished: bool
    rolled_back: bool
    logs: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "checksum": self.checksum, "finished": self.finished,
                "rolled_back": self.rolled_back}  # fmt: skip


def read(conn: psycopg.Connection[Any], schema: str = "public") -> list[Migration] | None:
    """The ledger's rows in the order they were applied, or None when there is no ledger (not Prisma's)."""
    found = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{TABLE}"',)).fetchone()
    if found is None or found[0] is None:
        return None
    rows = conn.execute(
        f"SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, logs "
        f'FROM "{schema}"."{TABLE}" ORDER BY started_at, migration_name'
    ).fetchall()
    return [Migration(*r) for r in rows]


def check(migrations: list[Migration], migrations_dir: Path | None) -> list[str]:
    """Refuse (exit 3) while a migration is failed or unfinished; return the checksum mismatches found
    against the migrations folder (a migration edited after it was applied), one line each."""
    stuck = [m for m in migrations if not m.finished and not m.rolled_back]
    if stuck:
        raise Refused(
            "Prisma's ledger has failed or unfinished migrations: "
            + ", ".join(m.name + (f" ({m.logs.splitlines()[0][:120]})" if m.logs else "") for m in stuck),
            "finish or resolve them with Prisma first (`prisma migrate resolve --applied|--rolled-back NAME`, "
            "as P3009 asks), then adopt",
        )
    if migrations_dir is None:
        return []
    if not migrations_dir.is_dir():
        raise BadInput(
            f"--migrations-dir {migrations_dir} is not a folder", "give Prisma's prisma/migrations folder"
        )
    problems = []
    for m in migrations:
        if m.rolled_back:
            continue
        sql = migrations_dir / m.name / "migration.sql"
        if not sql.is_file():
            problems.append(f"{m.name}: applied, but {sql} is not there")
            continue
        digest = hashlib.sha256(sql.read_bytes()).hexdigest()
        if digest != m.checksum:
            problems.append(
                f"{m.name}: migration.sql changed after it was applied (sha256 {digest[:12]}..., "
                f"the ledger has {m.checksum[:12]}...)"
            )
    return problems
