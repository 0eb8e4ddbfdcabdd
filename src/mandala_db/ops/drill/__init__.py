"""`mandala-db drill`: recovery rehearsed and measured. The newest good backup (local or remote) is fetched,
proved (sha256 and a full read), restored into a scratch database (never the live one) in the checked
transaction restores use, then checked (the data check and the reads the application depends on), and
optionally used to rehearse the next deploy. RTO is measured by phase, RPO from the backup's end; every
drill is recorded in a history beside the backups. The scratch database goes whatever happens; one left by
a killed drill is found and dropped by the next."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mandala_db.core.database import Database, quote_ident
from mandala_db.core.errors import BadInput, CheckFailed, MandalaError
from mandala_db.core.events import bus

HISTORY_FILE = "drills.jsonl"

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


@dataclass
class DrillResult:
    backup: str
    backup_finished_at: str
    started_at: str
    phases: dict[str, float] = field(default_factory=dict)  # seconds
    rpo_s: float = 0.0
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    rehearsal: list[dict[str, Any]] = field(default_factory=list)
    scratch: str = ""
    fault: MandalaError | None = None  # the backup could not be fetched (credentials, endpoint, permission)

    def failure(self) -> MandalaError | None:
        """The error for a missed target or a failed check (exit 5), or for a backup that could not be
        fetched (its own exit code), raised once the result is shown."""
        if self.ok:
            return None
        if self.fault is not None:
            return self.fault
        return CheckFailed("drill failed: " + "; ".join(self.problems[:3]), "see `mandala-db drill history`")

    @property
    def rto_s(self) -> float:
        """What a real recovery would take: everything but the rehearsal."""
        return sum(v for k, v in self.phases.items() if k != "rehearse")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "started_at": self.started_at,
            "backup": self.backup,
            "backup_finished_at": self.backup_finished_at,
            "phases_s": {k: round(v, 3) for k, v in self.phases.items()},
            "rto_s": round(self.rto_s, 3),
            "rpo_s": round(self.rpo_s, 1),
            "rehearsal": self.rehearsal,
            "problems": self.problems,
            "scratch_database": self.scratch,
        }


def drop_leftovers(db: Database) -> list[str]:
    """Scratch databases of this database's drills that died (a drill running beside this one keeps its
    own)."""
    from mandala_db.ops.restore.apply import drop_leftover_scratch

    return drop_leftover_scratch(db, "drill")


def newest_good_full(backup_dir: Path) -> tuple[Path, Any] | None:
    """The newest full backup here whose latest verification is not a failure, with its manifest."""
    from mandala_db.ops.backup import newest_trusted

    return newest_trusted(backup_dir, "full")


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
    from mandala_db.ops.backup import BackupManifest
    from mandala_db.ops.data.check import check_database
    from mandala_db.ops.restore import restore_into_new_database, scratch_name
    from mandala_db.ops.restore.apply import prove_file
    from mandala_db.ops.restore.verify import read_all

    fetch, is_download = _fetcher(source, backup_dir, remote)
    drop_leftovers(db)
    sweep_temp_dirs("drill")
    scratch = scratch_name(db, "drill")
    result = DrillResult("", "", datetime.now(UTC).isoformat(), scratch=scratch)
    bus.info("drill_start", f"drill started: into scratch database {scratch}")
    workdir = temp_dir("drill")
    local_manifest: BackupManifest | None = None
    backup_verdict: dict[str, Any] | None = None  # what this drill proved of the backup itself

    def phase(name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return work()
        except (BadInput, CheckFailed) as exc:
            if name in ("verify", "restore"):
                raise _BackupBad(exc.message) from exc
            raise
        finally:
            result.phases[name] = time.perf_counter() - started

    try:
        try:
            path: Path = phase("download", lambda: fetch(workdir)) if is_download else fetch(workdir)
        except MandalaError as exc:
            result.fault = exc  # the storage said no: its own error, with its own next step
            raise
        result.backup = str(path)
        manifest = BackupManifest.load(path, authenticate=True)
        local_manifest = None if is_download else manifest
        result.backup_finished_at = manifest.finished_at
        result.rpo_s = (datetime.now(UTC) - datetime.fromisoformat(manifest.finished_at)).total_seconds()
        if manifest.kind != "full":
            raise BadInput(f"{path} is a {manifest.kind} backup", "a drill restores a full backup")

        def verify() -> None:
            prove_file(path, manifest)
            read_all(path, manifest)

        phase("verify", verify)
        phase("restore", lambda: restore_into_new_database(db, scratch, path, manifest))
        target = db.on(scratch)

        def checks() -> None:
            findings = check_database(target)
            result.problems += [f"data check: {f.line()}" for f in findings]
            with target.connect() as conn:
                for label, sql in APPLICATION_READS.items():
                    try:
                        conn.execute(sql).fetchall()
                    except Exception as exc:
                        if server_gone(exc):
                            raise
                        result.problems.append(f"read failed ({label}): {exc}")

        phase("checks", checks)
        backup_verdict = {"ok": not result.problems, "problems": list(result.problems)}
        if rehearse:
            from mandala_db.ops.migrate import rehearse_deploy

            result.rehearsal = phase("rehearse", lambda: rehearse_deploy(target))
    except _BackupBad as exc:
        result.problems.append(str(exc))
        backup_verdict = {"ok": False, "problems": [str(exc)]}
    except MandalaError as exc:
        result.problems.append(exc.message)
    except Exception as exc:
        if not server_gone(exc):
            raise
        result.problems.append(f"the database server went away during the drill: {server_gone(exc)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        _drop_scratch(db, scratch)
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
    if local_manifest is not None and backup_verdict is not None:
        _record_in_manifest(Path(result.backup), local_manifest, result, backup_verdict)
    record(backup_dir, result, remote)
    level = bus.info if result.ok else bus.error
    level("drill_complete" if result.ok else "drill_failed",
          f"drill {'passed' if result.ok else 'failed'}: RTO {result.rto_s:.1f} s, RPO {result.rpo_s:.0f} s",
          duration_ms=result.rto_s * 1000, rto_s=round(result.rto_s, 3), rpo_s=round(result.rpo_s, 1))  # fmt: skip
    return result


def _drop_scratch(db: Database, scratch: str) -> None:
    """The scratch copy goes whatever happened; when the server cannot be reached the failure is the
    drill's, not this clean-up's (the next drill drops the copy once the server is back)."""
    try:
        with db.on("postgres").connect() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)} WITH (FORCE)")
    except Exception as exc:
        bus.warning("drill_cleanup", f"the scratch database {scratch} could not be dropped now: {exc}; "
                    "the next drill drops it")  # fmt: skip


def _record_in_manifest(path: Path, manifest: Any, result: DrillResult, verdict: dict[str, Any]) -> None:
    """What the drill proved of the backup, in its manifest: a drill that found it bad makes it untrusted
    (the next drill, `backup stats` and the freshness check then look past it)."""
    entry = {"at": result.started_at, "kind": "drill", "ok": verdict["ok"], "drill_ok": result.ok,
             "duration_ms": round(result.rto_s * 1000, 1)}  # fmt: skip
    if verdict["problems"]:
        entry["problems"] = verdict["problems"][:5]
    try:
        manifest.verifications.append(entry)
        manifest.save(path)
    except (OSError, MandalaError) as exc:
        bus.warning("drill_not_recorded", f"the drill could not be recorded in {path}'s manifest: {exc}")


def record(backup_dir: Path, result: DrillResult, remote: str | None = None) -> None:
    """Beside the backups, and with a remote configured a copy there too (the evidence outlives the machine)."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    with (backup_dir / HISTORY_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(result.to_dict(), default=str) + "\n")
    if remote:
        from mandala_db.ops.backup.remote import Remote

        try:
            Remote.at(remote).put_text(HISTORY_FILE, (backup_dir / HISTORY_FILE).read_text(encoding="utf-8"))
        except MandalaError as exc:
            bus.warning("drill_history_not_shipped", exc.message)


def history(backup_dir: Path) -> list[dict[str, Any]]:
    path = backup_dir / HISTORY_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash: the rest still counts
    return out


def freshness(backup_dir: Path) -> dict[str, Any]:
    """How stale recovery is: the age of the newest full backup no verification found bad, and of the last
    drill that passed (None when there is none)."""
    now = datetime.now(UTC)
    good = newest_good_full(backup_dir)
    passed = [d for d in history(backup_dir) if d.get("ok")]
    backup_at = good[1].finished_at if good else None
    drill_at = passed[-1]["started_at"] if passed else None
    return {
        "newest_good_backup_at": backup_at,
        "newest_good_backup_age_s": round((now - datetime.fromisoformat(backup_at)).total_seconds())
        if backup_at
        else None,
        "last_passed_drill_at": drill_at,
        "last_passed_drill_age_s": round((now - datetime.fromisoformat(drill_at)).total_seconds())
        if drill_at
        else None,
    }


def report_markdown(result: DrillResult) -> str:
    """Fit to attach as audit evidence of a restore test."""
    rows = "".join(f"| {k} | {v:.2f} s |\n" for k, v in result.phases.items())
    problems = "".join(f"- {p}\n" for p in result.problems) or "- none\n"
    rehearsal = "".join(
        f"- {r['direction']} {r['revision']}: {r['duration_ms'] / 1000:.2f} s\n" for r in result.rehearsal
    )
    return (
        f"# Recovery drill, {result.started_at[:19]} UTC\n\n"
        f"Result: **{'passed' if result.ok else 'FAILED'}**\n\n"
        f"- Backup: `{result.backup}` (finished {result.backup_finished_at})\n"
        f"- Restored into the scratch database `{result.scratch}` (dropped afterwards; the live database untouched)\n"
        f"- RTO (measured): {result.rto_s:.2f} s\n- RPO (now minus the backup's end): {result.rpo_s:.0f} s\n\n"
        f"| phase | time |\n|---|---|\n{rows}\n## Problems\n\n{problems}"
        + (f"\n## Rehearsal of the next deploy\n\n{rehearsal}" if result.rehearsal else "")
    )


__all__ = ["DrillResult", "drill", "drop_leftovers", "freshness", "history", "report_markdown"]
