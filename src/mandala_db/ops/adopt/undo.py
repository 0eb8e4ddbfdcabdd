"""`adopt prisma --undo`: the Prisma layout given back from what the adoption kept (its catalog snapshot and
Prisma's ledger, in the archive schema), in one transaction proved the same way (proof.py: the count and checksum of
the tables whose values change, over our columns before and Prisma's after; the storage of the tables only
renamed), and the schema equal to the layout kept. Writes made since the adoption are kept: this is a conversion back, not a restore."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core import catalog, ledger
from mandala_db.core.database import Database
from mandala_db.core.errors import OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.core.revision import VERSION_TABLE, current_schema
from mandala_db.migrations.archive import ARCHIVE_PREFIX
from mandala_db.ops.adopt import proof
from mandala_db.ops.adopt.convert import inverse, ours_only
from mandala_db.ops.adopt.ledger import TABLE as PRISMA_LEDGER
from mandala_db.ops.adopt.mapping import quote
from mandala_db.ops.adopt.run import RECORD, apply, lock_all


@dataclass
class Undo:
    statements: int
    backup: str
    tables: dict[str, int] = field(default_factory=dict)  # rows proved by count and checksum, per table
    unchanged: list[str] = field(default_factory=list)  # tables proved by their storage (renames only)

    def to_dict(self) -> dict[str, Any]:
        return {"statements": self.statements, "backup": self.backup, "rows_proved": self.tables,
                "storage_proved": self.unchanged}  # fmt: skip


def undo(db: Database, backup_dir: Path, *, confirm: Callable[[str], None] | None = None,
         lock_timeout: str = "5s") -> Undo:  # fmt: skip
    with db.connect() as conn:
        schema = current_schema(conn)
        archive = ARCHIVE_PREFIX + schema
        found = conn.execute("SELECT to_regclass(%s)", (f"{quote(archive)}.{RECORD}",)).fetchone()
        if found is None or found[0] is None:
            raise Refused(f"{db.url.dbname}: no adoption recorded here to undo",
                          "an adoption keeps what it replaced in the archive schema; restore its pre-adoption "
                          "backup with `restore restore FILE` if that is gone")  # fmt: skip
        row = conn.execute(f"SELECT layout, backup FROM {quote(archive)}.{RECORD}").fetchone()
        assert row is not None
        prisma = catalog.Snapshot.from_dict(schema, row[0])
        models = catalog.models_snapshot(conn)
        _new_tables_empty(conn, db.url.dbname or "", sorted(models.tables.keys() - prisma.tables.keys()))
        conn.commit()
    if confirm is not None:
        confirm(f"Give {db.url.dbname} back its Prisma layout (the adoption's backup: {row[1]})")
    from mandala_db.ops.backup.dump import create_backup

    backup = create_backup(db, backup_dir, label="pre_undo")
    with db.connect() as conn, conn.transaction():
        tables = sorted(prisma.tables)
        lock_all(conn, tables, lock_timeout)
        conversion = inverse(catalog.take(conn, schema), prisma)
        first, kept, unequal = proof.proved(
            conn, models, prisma, set(tables) & models.tables.keys(), conversion.statements,
            lambda: apply(conn, conversion, "the way back"), forward=False,
        )  # fmt: skip
        conn.execute(f"ALTER TABLE {quote(archive)}.{quote(PRISMA_LEDGER)} SET SCHEMA {quote(schema)}")
        now = catalog.take(conn, schema)
        if unequal:
            raise OperationFailed(
                "the rows given back differ from ours, so nothing was changed: " + "; ".join(unequal[:3])
            )
        _same_layout(now, prisma)
        conn.execute(f"DROP TABLE {quote(archive)}.{RECORD}, {VERSION_TABLE}")
        runs = ledger.RunLedger(conn, run_id="adopt-prisma-undo", environment="adopt")
        runs.ensure()
        runs.finish(runs.start("prisma", "downgrade", None, None, statements_total=len(conversion.statements)),
                    "succeeded")  # fmt: skip
    bus.info("adopt_undone", f"Prisma layout given back: {len(conversion.statements)} statements, "
             f"{sum(n for n, _ in first.values()):,} rows proved equal by checksum, {len(kept)} tables by storage")  # fmt: skip
    return Undo(
        len(conversion.statements), str(backup.path), {t: n for t, (n, _) in first.items()}, sorted(kept)
    )


def _new_tables_empty(conn: Any, dbname: str, tables: list[str]) -> None:
    """The tables the adoption added to an older state (task_notes, the goal-level reflections...) go with
    the way back: refused while they hold rows, which the Prisma layout has nowhere to keep."""
    held = {}
    for table in tables:
        found = conn.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()
        if found and found[0]:
            held[table] = int(found[0])
    if held:
        raise Refused(
            f"{dbname}: the Prisma layout the adoption replaced has no table for the rows written since in "
            + ", ".join(f"{t} ({n:,})" for t, n in sorted(held.items())),
            "keep mandala-db's layout, or move those rows elsewhere first; nothing was changed",
        )


def _same_layout(now: catalog.Snapshot, prisma: catalog.Snapshot) -> None:
    now = catalog.Snapshot(now.schema, {t: v for t, v in now.tables.items() if not ours_only(t) and t != PRISMA_LEDGER},
                           now.enums, now.functions, now.views, now.sequences)  # fmt: skip
    left = catalog.compare(prisma, now)
    if left:
        raise OperationFailed("the layout given back is not the one the adoption replaced, so nothing was "
                              "changed: " + "; ".join(str(d) for d in left[:5]))  # fmt: skip


__all__ = ["Undo", "undo"]
