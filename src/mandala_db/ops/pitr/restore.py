"""`restore pitr`: a physical backup restored by pgBackRest into a new data directory, started on a port
of its own, and recovered from the archived WAL up to a moment (`--to-time`) or to the end of the archive
(`--latest`). The live cluster is never touched: the copy is a separate server the operator inspects, then
promotes to production or drops. Recovery is waited for (the copy promotes itself once it has reached the
target), and the report says what was reached: the last transaction the copy replayed, against the target.

The copy does not archive: its WAL would be mixed into the stanza's history as a new timeline of the live
cluster's (`archive_mode=off` on its command line)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.pitr.engine import Stanza

LAST_REPLAYED = re.compile(r"last completed transaction was at log time (?P<at>[\d-]+ [\d:.]+(?:[+-]\d+)?)")
STOPPED = re.compile(
    r"recovery stopping (?:before|after) commit of transaction \d+, time (?P<at>[\d-]+ [\d:.]+(?:[+-]\d+)?)"
)


@dataclass
class Recovered:
    target: str  # the time asked for, or "latest"
    data_dir: str
    port: int
    url: DatabaseURL
    last_replayed: str | None  # the last transaction the copy replayed (its commit time, from its log)
    revision: str | None  # the application's revision in the copy
    seconds: float  # from the start of the restore to the promoted copy
    restore_seconds: float  # pgBackRest's part: the files
    replay_seconds: float  # the server's part: the WAL

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "data_dir": self.data_dir, "port": self.port,
                "last_replayed": self.last_replayed, "revision": self.revision, "seconds": round(self.seconds, 3),
                "restore_seconds": round(self.restore_seconds, 3), "replay_seconds": round(self.replay_seconds, 3)}  # fmt: skip


def _as_owner(stanza: Stanza, cmd: list[str]) -> list[str]:
    return (
        ["runuser", "-u", stanza.owner(), "--", *cmd]
        if os.geteuid() == 0 and stanza.owner() != "root"
        else cmd
    )


def before_deploy(conn: psycopg.Connection[Any], revision: str) -> str:
    """The moment a revision's last successful deploy began, from the run ledger (its row is written as the
    deploy starts, before any of its statements): recovering to just before it brings back the database as
    it was before that revision, with every write committed until then."""
    from mandala_db.core import ledger

    if not ledger.exists(conn):
        raise BadInput("--to-revision: this database has no run ledger, so no deploy to recover to",
                       "use --to-time")  # fmt: skip
    row = conn.execute(f"SELECT started_at FROM {ledger.TABLE} WHERE revision = %s AND direction = 'upgrade' AND "
                       "status = 'succeeded' ORDER BY id DESC LIMIT 1", (revision,)).fetchone()  # fmt: skip
    if row is None:
        raise BadInput(f"--to-revision {revision}: the run ledger has no successful deploy of it",
                       "`mandala-db migrate history` lists the deploys; or use --to-time")  # fmt: skip
    return str(row[0])


def restore(stanza: Stanza, bindir: Path, target_dir: Path, port: int, *, to_time: str | None,
            exclusive: bool = False, timeout: float = 3600) -> Recovered:  # fmt: skip
    """pgBackRest's restore into `target_dir`, then the copy started with `bindir`'s pg_ctl on `port` and
    waited for until it has recovered and promoted itself (`exclusive`: stopping just before `to_time`)."""
    if to_time is not None:
        _parse_time(to_time)
    if target_dir.exists() and any(target_dir.iterdir()):
        raise BadInput(
            f"--target-dir {target_dir} is not empty", "give a new folder: the copy is restored into it"
        )
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(target_dir, stanza.owner(), stanza.owner())
    started = time.monotonic()
    # To the end of the archive the copy promotes itself; at a target it must be told to (else it pauses).
    args = [f"--pg1-path={target_dir}"]
    args += (
        ["--type=time", f"--target={to_time}", "--target-action=promote"] if to_time else ["--type=default"]
    )
    if to_time and exclusive:
        args.append("--target-exclusive")
    bus.info("pitr_restore_start", f"restoring stanza {stanza.name} into {target_dir} "
             f"({'up to ' + to_time if to_time else 'to the end of the archive'})", stanza=stanza.name)  # fmt: skip
    stanza.run(*args, "restore", timeout=timeout)
    restored = time.monotonic()
    socket, log = target_dir.parent, target_dir.parent / f"{target_dir.name}.log"
    options = f"-p {port} -k {socket} -h '' -c archive_mode=off"
    done = subprocess.run(_as_owner(stanza, [str(bindir / "pg_ctl"), "-D", str(target_dir), "-l", str(log), "-w",
                                             "-t", str(int(timeout)), "-o", options, "start"]),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
    if done.returncode != 0:
        raise OperationFailed(f"the restored copy did not start: {_log_error(log) or done.stdout.strip()[-300:]}",
                              f"its log: {log}")  # fmt: skip
    url = DatabaseURL(stanza.user, None, (), "postgres", (("host", str(socket)), ("port", str(port))))
    _wait_promoted(url, log, started + timeout)
    finished = time.monotonic()
    text = log.read_text(errors="replace") if log.exists() else ""
    m = STOPPED.search(text) or LAST_REPLAYED.search(text)
    result = Recovered(to_time or "latest", str(target_dir), port, url, m.group("at") if m else None,
                       _revision(url), finished - started, restored - started, finished - restored)  # fmt: skip
    bus.info("pitr_restore_complete", f"recovered into {target_dir} on port {port}: last transaction replayed "
             f"{result.last_replayed or 'unknown'}", seconds=round(result.seconds, 3))  # fmt: skip
    return result


def _revision(url: DatabaseURL) -> str | None:
    from mandala_db.core.revision import current_revision

    with psycopg.connect(**url.libpq_params(), autocommit=True) as conn:  # type: ignore[arg-type]
        return current_revision(conn)


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(
            f"--to-time {value!r} is not a time", "e.g. --to-time '2026-12-06 21:30:00+00'"
        ) from None


def _wait_promoted(url: DatabaseURL, log: Path, deadline: float) -> None:
    """Until the copy has left recovery (it promotes itself at the target); a recovery that cannot reach its
    target stops the server, and its own FATAL line is the error."""
    params = url.libpq_params()
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(**params, autocommit=True, connect_timeout=5) as conn:  # type: ignore[arg-type]
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                if row == (False,):
                    return
        except psycopg.OperationalError:
            if (error := _log_error(log)) is not None:
                raise OperationFailed(f"the restored copy stopped: {error}", f"its log: {log}") from None
        time.sleep(0.1)
    raise OperationFailed("the restored copy did not finish recovering in time", f"its log: {log}")


def _log_error(log: Path) -> str | None:
    if not log.exists():
        return None
    fatal = [ln for ln in log.read_text(errors="replace").splitlines() if "FATAL:" in ln or "PANIC:" in ln]
    return fatal[-1].split("FATAL:", 1)[-1].strip() if fatal else None


def server_bindir(major: int) -> Path:
    """The server binaries of the live cluster's major version: the copy must run on the same major."""
    from mandala_db.core.tools import available

    for tool in available("pg_ctl"):
        if tool.major == major:
            return tool.path.parent
    raise OperationFailed(f"no PostgreSQL {major} server binaries (pg_ctl) on this machine",
                          f"install PostgreSQL {major}'s server package: the restored copy runs on the same version")  # fmt: skip
