"""The adoption: a Prisma-built database converted into ours in one transaction, proved, then validated.

1. The dry run's checks again: Prisma's ledger, the state of the history, the rows our rules reject (exit 5
   while any does; nothing is deleted or changed to make them fit).
2. A pre-adoption backup (`pre_adoption_backup_...`), as `migrate prod` takes one.
3. One transaction, under `lock_timeout`: every table locked, the proof read (proof.py: counts and
   checksums over Prisma's columns where values change, the storage of the tables only renamed), the
   conversion (renames, the mapped values, our names, defaults, trigger, CHECKs and foreign keys
   `NOT VALID`), the same proof over ours (unequal: rolled back), the
   schema compared with the models, `_prisma_migrations` moved into the archive schema, our head stamped
   and the adoption recorded in the run ledger. A kill before the commit leaves the Prisma layout as it was.
4. After the commit, each constraint validated in a transaction of its own (SHARE UPDATE EXCLUSIVE:
   writers go on). A run killed there is finished by running `adopt prisma` again.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core import catalog, ledger
from mandala_db.core.database import Database
from mandala_db.core.errors import CheckFailed, OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.core.revision import current_revision, current_schema, stamp
from mandala_db.migrations.archive import ARCHIVE_PREFIX
from mandala_db.ops.adopt import dry_run, fix, proof
from mandala_db.ops.adopt.convert import Conversion, plan
from mandala_db.ops.adopt.forward import forward
from mandala_db.ops.adopt.ledger import TABLE as PRISMA_LEDGER
from mandala_db.ops.adopt.mapping import quote
from mandala_db.ops.migrate.loader import History


@dataclass
class Adoption:
    head: str | None
    backup: str | None = None
    statements: int = 0
    validated: list[str] = field(default_factory=list)
    fixed: list[fix.Fixed] = field(default_factory=list)  # what --fix did, rule by rule
    tables: dict[str, int] = field(default_factory=dict)  # rows proved equal by count and checksum, per table
    unchanged: dict[str, int] = field(default_factory=dict)  # tables proved by their storage (rows estimated)
    archived: str = ""
    resumed: bool = False
    forwarded: int = 0  # statements that brought an older state of the history forward first

    def to_dict(self) -> dict[str, Any]:
        return {"head": self.head, "backup": self.backup, "statements": self.statements,
                "validated": self.validated, "rows_proved": self.tables, "storage_proved": self.unchanged,
                "prisma_ledger_archived_as": self.archived,
                "fixed": [f.to_dict() for f in self.fixed], "forwarded_statements": self.forwarded,
                "resumed": self.resumed}  # fmt: skip


def adopt(
    db: Database,
    backup_dir: Path,
    *,
    migrations_dir: Path | None = None,
    confirm: Callable[[str], None] | None = None,
    lock_timeout: str = "5s",
    history: History | None = None,
    fixes: dict[str, str] | None = None,
) -> Adoption:
    history = history or History.load()
    resumed = _resume(db, history)
    if resumed is not None:
        return resumed
    report = dry_run(db, migrations_dir, fixes)
    if report.problems:
        raise CheckFailed(
            f"the adoption refuses: {len(report.unfixed)} kind(s) of rows our constraints reject and no --fix "
            f"covers, {len(report.checksums)} checksum mismatch(es), {len(report.unplannable)} change(s) needing a "
            "decision; nothing was changed" + (f" ({report.unfixed[0]})" if report.unfixed else ""),
            "run `mandala-db adopt prisma --dry-run` for the rows; fix them, or name what to do with each kind "
            "with --fix (e.g. --fix check=clamp,reference=archive), and adopt again",
        )
    if confirm is not None:
        confirm(
            f"Convert {db.url.dbname} from Prisma's layout to mandala-db's ({sum(report.tables.values()):,} rows)"
        )
    from mandala_db.ops.backup.dump import create_backup

    backup = create_backup(db, backup_dir, label="pre_adoption")
    bus.info("adopt_backup", f"pre-adoption backup {backup.path}", path=str(backup.path))
    result = Adoption(history.head, backup=str(backup.path))
    with db.connect() as conn:
        schema = current_schema(conn)
        models = report.models or catalog.models_snapshot(conn)
        with conn.transaction():
            lock_all(conn, [t for t in report.tables if t != PRISMA_LEDGER], lock_timeout)
            live = catalog.take(conn, schema)  # as it is now that nobody else can change it
            archive = ARCHIVE_PREFIX + schema
            result.fixed = fix.apply(conn, report.survey.blockers, report.fixes, live, models, archive)
            live, result.forwarded = _forward(conn, schema, live)
            conversion = plan(live, models)
            first, kept, unequal = proof.proved(
                conn, models, live, models.tables.keys() & live.tables.keys(), conversion.statements,
                lambda: apply(conn, conversion, "the conversion"), forward=True,
            )  # fmt: skip
            if unequal:
                raise OperationFailed("the converted rows differ from Prisma's, so nothing was changed: "
                                      + "; ".join(unequal[:3]))  # fmt: skip
            _same_schema(conn, schema, models)
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(archive)}")
            conn.execute(f"ALTER TABLE {quote(PRISMA_LEDGER)} SET SCHEMA {quote(archive)}")
            keep_layout(conn, archive, live, history.head, str(backup.path))
            stamp(conn, history.head)
            runs = ledger.RunLedger(conn, run_id=f"adopt-prisma-{uuid.uuid4().hex[:8]}", environment="adopt")
            runs.ensure()
            row = runs.start(
                history.head or "", "upgrade", None, None, statements_total=len(conversion.statements)
            )
            runs.finish(row, "succeeded")
        result.statements = len(conversion.statements) + result.forwarded
        result.archived = f"{archive}.{PRISMA_LEDGER}"
        result.tables = {t: n for t, (n, _) in first.items()}
        result.unchanged = {t: report.tables.get(t, 0) for t in sorted(kept)}
        bus.info("adopt_converted", f"converted in one transaction: {len(conversion.statements)} statements; "
                 f"{sum(result.tables.values()):,} rows proved equal by checksum in {len(result.tables)} tables, "
                 f"{len(kept)} tables by unchanged storage", statements=len(conversion.statements))  # fmt: skip
        conn.autocommit = True
        result.validated = _validate(conn, conversion.validations)
        # The fingerprint `status` compares with, once every constraint is what it will stay.
        runs = ledger.RunLedger(conn, run_id="adopt-prisma", environment="adopt")
        runs.set_fingerprint(row, catalog.take(conn, schema).fingerprint)
    return result


def _forward(
    conn: psycopg.Connection[Any], schema: str, live: catalog.Snapshot
) -> tuple[catalog.Snapshot, int]:
    """An older state brought to the latest in Prisma's layout (forward.py), proved: the tables it touches
    read through its mappings before, as they are after."""
    steps = forward(live)
    if not steps.statements:
        return live, 0
    first = steps.before(conn)
    for _, sql in steps.statements:
        conn.execute(sql.encode())
    if unequal := proof.differences(first, steps.after(conn)):
        raise OperationFailed("bringing the older state forward changed rows, so nothing was changed: "
                              + "; ".join(unequal[:3]))  # fmt: skip
    bus.info("adopt_forward", f"older state brought to 2025-12-11: {len(steps.statements)} statements",
             statements=len(steps.statements))  # fmt: skip
    return catalog.take(conn, schema), len(steps.statements)


def lock_all(conn: psycopg.Connection[Any], tables: list[str], lock_timeout: str) -> None:
    """Every table of the layout, in the caller's transaction: nobody writes while it changes shape; a
    session that holds one past lock_timeout makes it give up, changing nothing."""
    conn.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
    conn.execute(f"LOCK TABLE {', '.join(quote(t) for t in sorted(tables))} IN ACCESS EXCLUSIVE MODE")


def apply(conn: psycopg.Connection[Any], conversion: Conversion, what: str) -> None:
    if conversion.unrenderable:
        raise Refused(f"{what} cannot be planned: " + "; ".join(conversion.unrenderable))
    for _, sql in conversion.statements:
        conn.execute(sql.encode())


RECORD = "prisma_adoption"  # in the archive schema: the layout replaced, for `adopt prisma --undo`


def keep_layout(conn: psycopg.Connection[Any], archive: str, live: catalog.Snapshot, head: str | None,
                backup: str) -> None:  # fmt: skip
    """The Prisma layout as it was (its catalog snapshot), kept beside Prisma's ledger for the undo."""
    prisma = copy.deepcopy(live)
    prisma.tables.pop(PRISMA_LEDGER, None)
    conn.execute(f"CREATE TABLE {quote(archive)}.{RECORD} (layout jsonb NOT NULL, head text, backup text, "
                 "adopted_at timestamptz NOT NULL DEFAULT now())")  # fmt: skip
    conn.execute(f"INSERT INTO {quote(archive)}.{RECORD} VALUES (%s, %s, %s)",
                 (json.dumps(prisma.to_dict()), head, backup))  # fmt: skip


def _same_schema(conn: psycopg.Connection[Any], schema: str, models: catalog.Snapshot) -> None:
    """The converted schema is the models' (constraints not yet validated compare as the ones they become)."""
    now = catalog.take(conn, schema)
    now.tables = {
        t: v for t, v in now.tables.items() if t in models.tables
    }  # the team's own: left as they are
    now.functions = {f: v for f, v in now.functions.items() if f in models.functions}
    for t in now.tables.values():
        t.constraints = {n: (k, d.removesuffix(" NOT VALID")) for n, (k, d) in t.constraints.items()}
    left = catalog.compare(models, now)
    if left:
        raise OperationFailed("after the conversion the schema still differs from the models, so nothing was "
                              "changed: " + "; ".join(str(d) for d in left[:5]))  # fmt: skip


def _validate(conn: psycopg.Connection[Any], statements: list[str]) -> list[str]:
    done = []
    for sql in statements:
        try:
            conn.execute(sql)
        except psycopg.Error as exc:
            raise CheckFailed(
                f"the adoption committed, but {sql.split()[-1]} did not validate: {exc.diag.message_primary}",
                "fix the rows it names and run `mandala-db adopt prisma` again to validate what is left",
            ) from exc
        done.append(sql.split()[-1])
        bus.info("adopt_validated", f"validated {sql.split()[-1]}", constraint=sql.split()[-1])
    return done


def _resume(db: Database, history: History) -> Adoption | None:
    """An adoption that committed but was stopped while validating: the constraints left, validated."""
    with db.connect() as conn:
        conn.autocommit = True
        schema = current_schema(conn)
        archived = conn.execute(
            "SELECT to_regclass(%s)", (f"{quote(ARCHIVE_PREFIX + schema)}.{quote(PRISMA_LEDGER)}",)
        ).fetchone()
        if archived is None or archived[0] is None or current_revision(conn) is None:
            return None
        pending = conn.execute(
            """SELECT c.relname, con.conname FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
               WHERE c.relnamespace = %s::regnamespace AND NOT con.convalidated ORDER BY 1, 2""",
            (schema,),
        ).fetchall()
        if not pending:
            raise Refused(f"{db.url.dbname} was adopted already: mandala-db manages it",
                          "run `mandala-db migrate status`")  # fmt: skip
        result = Adoption(current_revision(conn), resumed=True)
        result.validated = _validate(
            conn, [f"ALTER TABLE {quote(t)} VALIDATE CONSTRAINT {quote(c)}" for t, c in pending]
        )
        return result


__all__ = ["Adoption", "adopt"]
