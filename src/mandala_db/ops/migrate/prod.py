"""`migrate prod`: the guarded production run. Pre-flight checks that change nothing and their verdict,
then a typed confirmation (through the caller's callback), a backup, the deploy, and post-checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.blockers import Blocker, blockers
from mandala_db.core.database import Database, server_version
from mandala_db.core.errors import CheckFailed, LockNotObtained, MandalaError, Refused
from mandala_db.core.events import bus
from mandala_db.core.lock import MigrationLock
from mandala_db.core.revision import current_revision, current_schema
from mandala_db.ops.migrate import phases
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.plan import RevisionPlan, make_plan
from mandala_db.ops.migrate.runner import AlembicRunner
from mandala_db.ops.migrate.validate import Finding, checksum_findings, history_snapshot

if TYPE_CHECKING:
    from mandala_db.ops.backup import Backup
    from mandala_db.ops.migrate.executor import RunOptions, RunResult


@dataclass
class Preflight:
    server_version: str
    current: str | None
    plans: list[RevisionPlan]
    checksums: list[Finding] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    lock_holder: str | None = None  # who holds the migration lock, when the check could not take it
    security: list[str] = field(default_factory=list)  # unsuppressed high security findings

    @property
    def lint_errors(self) -> list[Any]:
        return [f for p in self.plans for f in p.findings if f.blocking]

    @property
    def semantic_edits(self) -> list[Finding]:
        return [f for f in self.checksums if f.severity == "error"]

    def problems(self) -> list[str]:
        problems = [f.message for f in self.semantic_edits]
        problems += [f"drift: {d}" for d in self.drift]
        problems += [f.text() for f in self.lint_errors]
        if self.lock_holder:
            problems.append(f"the migration lock is held by {self.lock_holder}")
        return problems + self.security

    def report(self) -> None:
        for problem in self.problems():
            bus.warning("preflight", problem)
        for b in self.blockers:
            bus.warning("blocker", f"session on a table the plan touches: {b.describe()}")

    def refusal(self) -> MandalaError | None:
        """What `verdict` would raise, without raising it (a dry run says it as its last line)."""
        try:
            self.verdict()
        except MandalaError as exc:
            return exc
        return None

    def verdict(self) -> None:
        """Go (returns) or no go: the lock held (exit 4), semantic edits or drift (exit 5), unwaived lint
        errors (exit 3). Nothing has been changed when it raises."""
        if self.lock_holder:
            raise LockNotObtained(
                f"the migration lock is held by {self.lock_holder}", "wait for that run to finish"
            )
        if self.semantic_edits or self.drift:
            raise CheckFailed(
                "pre-flight found " + "; ".join(self.problems()[:3]),
                "run `migrate validate` for the full list; nothing was changed",
            )
        if self.security:
            raise Refused(
                f"pre-flight: {len(self.security)} high security finding(s): " + "; ".join(self.security[:2]),
                "fix them (`mandala-db security recommend`), or suppress a reviewed exception in "
                "security-suppressions.toml with a reason and an expiry date",
            )
        if self.lint_errors:
            raise Refused(
                f"pre-flight: {len(self.lint_errors)} lint error(s) not waived: "
                + "; ".join(f.text() for f in self.lint_errors[:2]),
                "make the change safe, or waive the rule in the revision with a reason",
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "server_version": self.server_version,
            "current": self.current,
            "pending": [p.revision.id for p in self.plans],
            "plan": [p.to_dict() for p in self.plans],
            "checksums": [f.to_dict() for f in self.checksums],
            "drift": self.drift,
            "lint_errors": [f.to_dict() for f in self.lint_errors],
            "blockers": [b.to_dict() for b in self.blockers],
            "lock_holder": self.lock_holder,
            "security": self.security,
        }


# The security check, handed in by the caller (the command line asks ops.security), so that migrations need
# not know the security capability: it returns a line for each unsuppressed high finding.
SecurityGate = Callable[[], list[str]]


def preflight(
    db: Database, history: History, security: SecurityGate | None = None, *, contract: bool = True
) -> Preflight:
    """Everything `prod` checks before it may change anything, the lock included (`--dry-run`); reads only
    (scratch work is rolled back)."""
    with db.connect() as conn:
        return _preflight(db, conn, history, check_lock=True, security=security, contract=contract)


def _preflight(
    db: Database,
    conn: psycopg.Connection[Any],
    history: History,
    *,
    check_lock: bool,
    security: SecurityGate | None = None,
    contract: bool = True,
) -> Preflight:
    runner = AlembicRunner()
    current = current_revision(conn)
    pre = Preflight(server_version(conn), current, make_plan(conn, history, runner, contract=contract))
    pre.checksums = checksum_findings(conn, history, runner)
    live = catalog.take(conn, current_schema(conn))
    pre.drift = [str(d) for d in catalog.compare(history_snapshot(db, current, runner), live)]
    touched = sorted({t.name for p in pre.plans for t in p.tables if t.exists})
    pre.blockers = blockers(conn, touched)
    if check_lock:
        pre.lock_holder = MigrationLock(db).probe(conn)
    pre.security = security() if security else []
    return pre


@dataclass
class PostChecks:
    head_reached: bool
    fingerprint_expected: bool
    differences: list[str]
    data_findings: list[Any]

    @property
    def ok(self) -> bool:
        return self.head_reached and self.fingerprint_expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "head_reached": self.head_reached,
            "fingerprint_expected": self.fingerprint_expected,
            "differences": self.differences,
            "data_check": [f.to_dict() for f in self.data_findings],
        }


def _postchecks(
    db: Database, conn: psycopg.Connection[Any], history: History, target: str | None
) -> PostChecks:
    """The target is reached (the head, or the revision before a contract revision that waits for
    --contract), the schema is exactly what the history builds there, and the data check's report."""
    from mandala_db.ops.data.check import check

    expected = history_snapshot(db, target)
    live = catalog.take(conn, current_schema(conn))
    differences = [str(d) for d in catalog.compare(expected, live)]
    return PostChecks(current_revision(conn) == target, not differences, differences, check(conn))


@dataclass
class ProdRun:
    preflight: Preflight
    result: RunResult | None = None  # None when nothing was pending
    backup: Backup | None = None
    post: PostChecks | None = None


def run(
    db: Database,
    history: History,
    options: RunOptions,
    backup_dir: Path,
    confirm: Callable[[Preflight], None],
    security: SecurityGate | None = None,
    ship: Callable[[Backup], None] | None = None,
) -> ProdRun:
    """Under the lock: pre-flight and its verdict, `confirm` (which raises to stop), the pre-migration
    backup, the deploy, the post-checks. A failed post-check is returned, not raised, so the caller can
    show the run first (`post_check_failure` gives the error to raise then)."""
    from mandala_db.ops.backup import create_backup, prove_toc
    from mandala_db.ops.migrate.executor import Executor

    with Executor(db, history, options) as executor:
        assert executor.conn is not None
        pre = _preflight(
            db, executor.conn, history, check_lock=False, security=security, contract=options.contract
        )
        pre.report()
        pre.verdict()
        executor.check_expected_plan()
        if not pre.plans:
            return ProdRun(pre)
        confirm(pre)
        backup = create_backup(db, backup_dir, label="pre_migration")
        # Proved before anything changes: every byte's sha256 and its table of contents, recorded in the
        # manifest as a verification (a backup that cannot be read back is no backup to deploy behind).
        prove_toc(backup.path, backup.manifest)
        if ship is not None:  # off this machine (S3) before anything changes
            ship(backup)
        todo = phases.deployable(history.after(executor.current()), options.contract, quiet=True)
        target = todo[-1].id if todo else executor.current()  # the head, unless a contract step waits
        result = executor.upgrade()
        post = _postchecks(db, executor.conn, history, target)
    for f in post.data_findings:
        bus.warning("data_check", f"post-check data report: {f.line()}")
    return ProdRun(pre, result, backup, post)


def post_check_failure(run: ProdRun) -> CheckFailed | None:
    """The error to raise after the result is shown, when the post-checks failed."""
    if run.post is None or run.post.ok or run.backup is None:
        return None
    return CheckFailed(
        "deployed, but the post-checks failed: " + "; ".join(run.post.differences[:3]),
        f"the pre-migration backup is {run.backup.path}",
    )
