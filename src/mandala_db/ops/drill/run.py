"""One drill: fetch the backup, prove it, restore it into a scratch database, check it, optionally rehearse
the next deploy; each phase timed; the targets judged; recorded whatever happened."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mandala_db.core.database import Database, quote_ident
from mandala_db.core.errors import BadInput, CheckFailed, MandalaError
from mandala_db.core.events import bus
from mandala_db.ops.drill.history import newest_good_full, record, record_in_manifest
from mandala_db.ops.drill.result import DrillResult

# Reads the application depends on: a user's mandala with its sub-goals, actions and tasks, and reminders.
APPLICATION_READS = {
    "a goal with its sub-goals and actions": """
        SELECT g.id, count(DISTINCT s.id), count(a.id) FROM goals g
        LEFT JOIN sub_goals s ON s.goal_id = g.id LEFT JOIN actions a ON a.sub_goal_id = s.id
        GROUP BY g.id ORDER BY g.id LIMIT 5""",
    "an action's tasks": """
        SELECT a.id, count(t.id) FROM actions a LEFT JOIN tasks t ON t.action_id = a.id
        GROUP BY a.id ORDER BY a.id LIMIT 5""",
    "a user's goals": "SELECT u.id, count(g.id) FROM users u LEFT JOIN goals g ON g.user_id = u.id GROUP BY u.id LIMIT 5",
}


def drop_leftovers(db: Database) -> list[str]:
    """Scratch databases of this database's drills that died (a drill running beside this one keeps its
    own)."""
    from mandala_db.ops.restore.scratch import drop_leftover_scratch

    return drop_leftover_scratch(db, "drill")


def _fetcher(source: str, backup_dir: Path, remote: str | None) -> tuple[Callable[[Path], Path], bool]:
    """How to get the backup file (given the drill's private folder), and whether that is a download (timed
    as its own phase). Everything a user could have mistyped is refused here (exit 2), before the drill
    starts: such a run is not a failed recovery and is not recorded."""
    from mandala_db.ops.backup import BackupManifest
    from mandala_db.ops.backup.remote import SCHEMES, Remote, download, locate

    def fetch(url: str) -> Callable[[Path], Path]:
        locate(url)  # refused now if it names no backup
        return lambda workdir: download(url, workdir)

    if source.partition(":")[0] in SCHEMES:
        return fetch(source), True
    if source != "latest":
        path = Path(source)
        if not path.exists():
            raise BadInput(
                f"--from {path} does not exist", "give a backup file, s3://bucket/key, file:///path or latest"
            )
        manifest = BackupManifest.load(path)  # a file without a manifest is not a backup of ours
        if manifest.kind != "full":
            raise BadInput(f"--from {path} is a {manifest.kind} backup", "a drill restores a full backup")
        return (lambda _workdir: path), False
    local = newest_good_full(backup_dir)
    if local is not None:
        found = local[0]
        return (lambda _workdir: found), False
    copies = [o for o in Remote.at(remote).list() if o["kind"] == "full" and o["trusted"]] if remote else []
    if copies:
        return fetch(copies[0]["url"]), True
    raise BadInput(f"there is no good full backup in {backup_dir}" + (f" nor in {remote}" if remote else ""),
                   "take one with `mandala-db backup full`")  # fmt: skip


class _BackupBad(Exception):
    """A phase found the backup itself bad: recorded in its manifest as a failed verification."""


def drill(
    db: Database,
    *,
    source: str = "latest",
    backup_dir: Path,
    remote: str | None = None,
    rto_target: float | None = None,
    max_backup_age: float | None = None,
    rehearse: bool = False,
) -> DrillResult:
    """Run one drill and record it whatever happens; `result.failure()` says whether it missed a target or a
    check failed (the caller shows the result first, then raises it)."""
    from mandala_db.core.database import server_gone
    from mandala_db.core.owner import sweep_temp_dirs, temp_dir
    from mandala_db.ops.restore import scratch_name

    fetch, is_download = _fetcher(source, backup_dir, remote)
    drop_leftovers(db)
    sweep_temp_dirs("drill")
    scratch = scratch_name(db, "drill")
    result = DrillResult("", "", datetime.now(UTC).isoformat(), scratch=scratch)
    bus.info("drill_start", f"drill started: into scratch database {scratch}")
    workdir = temp_dir("drill")
    run = _Run(db, result, scratch)
    try:
        run.phases(lambda: fetch(workdir), is_download, rehearse)
    except _BackupBad as exc:
        result.problems.append(str(exc))
        run.verdict = {"ok": False, "problems": [str(exc)]}
    except MandalaError as exc:
        result.problems.append(exc.message)
    except Exception as exc:
        if not server_gone(exc):
            raise
        result.problems.append(f"the database server went away during the drill: {server_gone(exc)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        _drop_scratch(db, scratch)
    _judge(result, rto_target, max_backup_age)
    if run.local_manifest is not None and run.verdict is not None:
        record_in_manifest(Path(result.backup), run.local_manifest, result, run.verdict)
    record(backup_dir, result, remote)
    level = bus.info if result.ok else bus.error
    level("drill_complete" if result.ok else "drill_failed",
          f"drill {'passed' if result.ok else 'failed'}: RTO {result.rto_s:.1f} s, RPO {result.rpo_s:.0f} s",
          duration_ms=result.rto_s * 1000, rto_s=round(result.rto_s, 3), rpo_s=round(result.rpo_s, 1))  # fmt: skip
    return result


class _Run:
    """The phases of one drill, each timed into the result; what the drill proved of the backup itself."""

    def __init__(self, db: Database, result: DrillResult, scratch: str) -> None:
        self.db, self.result, self.scratch = db, result, scratch
        self.local_manifest: Any = None  # the manifest of a local backup, to record the verdict in
        self.verdict: dict[str, Any] | None = None

    def timed(self, name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return work()
        except (BadInput, CheckFailed) as exc:
            if name in ("verify", "restore"):
                raise _BackupBad(exc.message) from exc
            raise
        finally:
            self.result.phases[name] = time.perf_counter() - started

    def phases(self, fetch: Callable[[], Path], is_download: bool, rehearse: bool) -> None:
        from mandala_db.ops.backup import BackupManifest
        from mandala_db.ops.restore import restore_into_new_database
        from mandala_db.ops.restore.apply import prove_file
        from mandala_db.ops.restore.verify import read_all

        result = self.result
        try:
            path: Path = self.timed("download", fetch) if is_download else fetch()
        except MandalaError as exc:
            result.fault = exc  # the storage said no: its own error, with its own next step
            raise
        result.backup = str(path)
        manifest = BackupManifest.load(path, authenticate=True)
        self.local_manifest = None if is_download else manifest
        result.backup_finished_at = manifest.finished_at
        result.rpo_s = (datetime.now(UTC) - datetime.fromisoformat(manifest.finished_at)).total_seconds()
        if manifest.kind != "full":
            raise BadInput(f"{path} is a {manifest.kind} backup", "a drill restores a full backup")

        def verify() -> None:
            prove_file(path, manifest)
            read_all(path, manifest)

        self.timed("verify", verify)
        self.timed("restore", lambda: restore_into_new_database(self.db, self.scratch, path, manifest))
        target = self.db.on(self.scratch)
        self.timed("checks", lambda: self.checks(target))
        self.verdict = {"ok": not result.problems, "problems": list(result.problems)}
        if rehearse:
            from mandala_db.ops.migrate import rehearse_deploy

            result.rehearsal = self.timed("rehearse", lambda: rehearse_deploy(target))

    def checks(self, target: Database) -> None:
        """The data check, and the reads the application depends on."""
        from mandala_db.core.database import server_gone
        from mandala_db.ops.data.check import check_database

        self.result.problems += [f"data check: {f.line()}" for f in check_database(target)]
        with target.connect() as conn:
            for label, sql in APPLICATION_READS.items():
                try:
                    conn.execute(sql).fetchall()
                except Exception as exc:
                    if server_gone(exc):
                        raise
                    self.result.problems.append(f"read failed ({label}): {exc}")


def _judge(result: DrillResult, rto_target: float | None, max_backup_age: float | None) -> None:
    """The targets: RTO (naming the slowest phase) and the backup's age."""
    if rto_target is not None and result.rto_s > rto_target and result.phases:
        slowest = max(
            (k for k in result.phases if k != "rehearse"), key=lambda k: result.phases[k], default=""
        )
        result.problems.append(
            f"RTO {result.rto_s:.1f} s is over the target {rto_target:g} s (slowest: {slowest}, "
            f"{result.phases.get(slowest, 0):.1f} s)"
        )
    if max_backup_age is not None and result.backup_finished_at and result.rpo_s > max_backup_age:
        result.problems.append(
            f"the backup is {result.rpo_s:.0f} s old, over the limit of {max_backup_age:g} s"
        )
    result.ok = not result.problems


def _drop_scratch(db: Database, scratch: str) -> None:
    """The scratch copy goes whatever happened; when the server cannot be reached the failure is the
    drill's, not this clean-up's (the next drill drops the copy once the server is back)."""
    try:
        with db.on("postgres").connect() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)} WITH (FORCE)")
    except Exception as exc:
        bus.warning("drill_cleanup", f"the scratch database {scratch} could not be dropped now: {exc}; "
                    "the next drill drops it")  # fmt: skip
