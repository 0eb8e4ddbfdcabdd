"""`adopt prisma`: take over the database the goal-mandala team has today, as Prisma built it. This part reads
it, changing nothing: Prisma's ledger (a failed or unfinished migration refuses, as P3009; checksums
against the migrations folder), the state of the history it is in, and every row our constraints would
reject, and with `--fix`, whether the fixes chosen can make those rows fit. The conversion itself is
run.py, its proof proof.py, the fixes fix.py, the way back undo.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import Refused
from mandala_db.core.revision import current_schema
from mandala_db.ops.adopt import fix, ledger
from mandala_db.ops.adopt.convert import plan
from mandala_db.ops.adopt.forward import forward, simulate
from mandala_db.ops.adopt.survey import Survey, survey
from mandala_db.ops.migrate.plan import TableStats


@dataclass
class DryRun:
    migrations: list[ledger.Migration]
    checksums: list[str]  # migrations edited after they were applied
    survey: Survey
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    forward: list[str] = field(
        default_factory=list
    )  # an older state brought to the latest first (forward.py)
    plan: dict[str, list[str]] = field(default_factory=dict)  # the conversion's SQL, table by table
    validations: list[str] = field(default_factory=list)
    unplannable: list[str] = field(default_factory=list)  # what the conversion cannot do without a decision
    models: catalog.Snapshot | None = None  # our models' catalog, read once: the adoption uses it too
    fixes: dict[str, str] = field(default_factory=dict)  # --fix: what to do with each kind of blocker
    unfixed: list[str] = field(default_factory=list)  # blockers no fix (or no fix that works) covers

    @property
    def problems(self) -> int:
        return len(self.checksums) + len(self.unfixed) + len(self.unplannable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prisma_migrations": [m.to_dict() for m in self.migrations],
            "checksum_mismatches": self.checksums,
            "tables": self.tables,
            **self.survey.to_dict(),
            "forward": self.forward,
            "plan": self.plan,
            "validations": self.validations,
            "unplannable": self.unplannable,
            "fixes": {b.name: fix.action_for(b, self.fixes) for b in self.survey.blockers}
            if self.fixes
            else {},
            "unfixed": self.unfixed,
        }


def dry_run(db: Database, migrations_dir: Path | None = None, fixes: dict[str, str] | None = None) -> DryRun:
    """Everything the adoption would read and check, in one transaction that is always rolled back (the
    models are built in a scratch schema inside it)."""
    with db.connect() as conn, conn.transaction(force_rollback=True):
        schema = current_schema(conn)
        migrations = ledger.read(conn, schema)
        if migrations is None:
            raise Refused(
                f"{db.url.dbname}: there is no _prisma_migrations table in schema {schema}: not a database "
                "Prisma migrated",
                "point DATABASE_URL at the Prisma-built database (a database mandala-db built needs no adoption)",
            )
        if conn.execute("SELECT to_regclass('alembic_version')").fetchone() not in (None, (None,)):
            raise Refused(f"{db.url.dbname} already has alembic_version: it was adopted or built by mandala-db",
                          "run `mandala-db migrate status` instead")  # fmt: skip
        checksums = ledger.check(migrations, migrations_dir)
        live = catalog.take(conn, schema)
        models = catalog.models_snapshot(conn)
        found = survey(conn, live, models)
        stats = TableStats(conn, schema)  # estimates, counted where the table was never analysed
        tables = {t: stats.rows_of(t) or 0 for t in sorted(live.tables)}
        report = DryRun(migrations, checksums, found, tables, models=models, fixes=fixes or {})
        report.unfixed = fix.problems(found.blockers, report.fixes, models)
        # An older state is planned from what forward.py leaves (simulated here: the dry run rewrites nothing).
        report.forward = [sql for _, sql in forward(live).statements]
        conversion = plan(simulate(live), models)
        report.plan, report.validations = conversion.by_table(), conversion.validations
        report.unplannable = conversion.unrenderable
    return report
