"""`drill --engine pgbackrest`: the same drill as the logical one, on the newest physical backup. It is
restored with the archived WAL into a scratch cluster (a data directory beside the stanza's state, on a
port of its own; the live cluster is never touched), checked, timed by phase (pgBackRest's restore, the
WAL replay, the checks: together the RTO), and its RPO measured: the gap between the newest transaction
committed on the live cluster before the drill and the newest one the copy recovered (with
`track_commit_timestamp` off, the drill's start stands for the former, an upper bound). The scratch cluster
is stopped and removed whatever happens, and the drill is recorded in the drill history beside the backups."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core.database import Database
from mandala_db.core.errors import MandalaError
from mandala_db.core.events import bus
from mandala_db.core.revision import current_revision
from mandala_db.ops.drill.history import record
from mandala_db.ops.drill.result import DrillResult
from mandala_db.ops.pitr.engine import Stanza
from mandala_db.ops.pitr.restore import restore


def _newest_commit(db: Database) -> tuple[datetime, str | None]:
    """The newest commit on the live cluster (exact with track_commit_timestamp), and its revision."""
    with db.connect() as conn:
        conn.autocommit = True
        revision = current_revision(conn)
        row = conn.execute("SELECT current_setting('track_commit_timestamp') = 'on', now()").fetchone()
        assert row is not None
        if row[0]:
            last = conn.execute("SELECT (pg_last_committed_xact()).timestamp").fetchone()
            if last is not None and last[0] is not None:
                return last[0], revision
        return row[1], revision


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def physical_drill(db: Database, stanza: Stanza, bindir: Path, backup_dir: Path, *,
                   rto_target: float | None = None, max_backup_age: float | None = None) -> DrillResult:  # fmt: skip
    backups = stanza.info().get("backup", [])
    started = datetime.now(UTC)
    if not backups:
        result = DrillResult(
            f"pgbackrest:{stanza.name}", "", started.isoformat(), problems=["no physical backup yet"]
        )
        record(backup_dir, result)
        return result
    newest = backups[-1]
    backup_end = datetime.fromtimestamp(newest["timestamp"]["stop"], UTC)
    result = DrillResult(
        f"pgbackrest:{stanza.name}/{newest['label']}", backup_end.isoformat(), started.isoformat()
    )
    live_commit, live_revision = _newest_commit(db)
    scratch = stanza.config.parent / f"drill-{started:%Y%m%d%H%M%S}-{newest['label']}"
    result.scratch = str(scratch)
    try:
        copy = restore(stanza, bindir, scratch, _free_port(), to_time=None)
        result.phases["restore"], result.phases["replay"] = copy.restore_seconds, copy.replay_seconds
        clock = time.monotonic()
        result.problems += _checks(copy.url, live_revision)
        result.phases["checks"] = time.monotonic() - clock
        recovered = datetime.fromisoformat(copy.last_replayed) if copy.last_replayed else backup_end
        result.rpo_s = max((live_commit - recovered).total_seconds(), 0.0)
    except MandalaError as exc:
        result.problems.append(exc.message)
    finally:
        _remove(stanza, bindir, scratch)
    if rto_target is not None and result.rto_s > rto_target:
        slowest = max(result.phases, key=lambda k: result.phases[k]) if result.phases else "-"
        result.problems.append(
            f"RTO {result.rto_s:.1f} s is over the target {rto_target:.0f} s (slowest: {slowest})"
        )
    if max_backup_age is not None and (started - backup_end).total_seconds() > max_backup_age:
        result.problems.append(
            f"the newest physical backup is {(started - backup_end).total_seconds() / 3600:.1f} h old"
        )
    result.ok = not result.problems
    record(backup_dir, result)
    bus.info("drill_complete", f"physical drill {'passed' if result.ok else 'failed'}: RTO {result.rto_s:.1f} s, "
             f"RPO {result.rpo_s:.1f} s", rto_s=round(result.rto_s, 3), rpo_s=round(result.rpo_s, 1))  # fmt: skip
    return result


def _checks(url: Any, revision: str | None) -> list[str]:
    """The copy answers, is at the live cluster's revision, and (with our schema) passes the data check."""
    from mandala_db.ops.data.check import check

    problems = []
    with psycopg.connect(**url.libpq_params(), autocommit=True) as conn:
        reached = current_revision(conn)
        if reached != revision:
            problems.append(
                f"the copy is at revision {reached or 'none'}, the live cluster at {revision or 'none'}"
            )
        if reached is not None:
            problems += [f.line() for f in check(conn)]
    return problems


def _remove(stanza: Stanza, bindir: Path, scratch: Path) -> None:
    if not scratch.exists():
        return
    cmd = [str(bindir / "pg_ctl"), "-D", str(scratch), "-m", "immediate", "stop"]
    if os.geteuid() == 0 and stanza.owner() != "root":
        cmd = ["runuser", "-u", stanza.owner(), "--", *cmd]
    subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
    shutil.rmtree(scratch, ignore_errors=True)
    log = scratch.parent / f"{scratch.name}.log"
    log.unlink(missing_ok=True)
