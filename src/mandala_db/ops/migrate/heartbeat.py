"""While a revision runs, a `migration_progress` record every few seconds: how long it has run, what its
statement waits on (pg_stat_activity's wait_event) and who blocks it (pg_blocking_pids), so a long
migration does not look hung, and the alert for a run past --alert-after fires during the run."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from mandala_db.core.events import bus

_QUERY = """
SELECT a.wait_event_type, a.wait_event,
       coalesce((SELECT json_agg(json_build_object(
                    'pid', b.pid, 'application', b.application_name, 'state', b.state,
                    'transaction_age_s', round(extract(epoch FROM now() - b.xact_start)::numeric, 1)))
                 FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '[]'::json)
FROM pg_stat_activity a WHERE a.pid = %s"""


class Heartbeat:
    """Reads the work session's state through `observer` (the lock's connection, idle while the revision
    runs) from a thread of its own; stops with the revision."""

    def __init__(
        self, observer: psycopg.Connection[Any], work_pid: int, revision: str, interval: float
    ) -> None:
        self.observer, self.work_pid, self.revision, self.interval = observer, work_pid, revision, interval
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="mandala-heartbeat")

    def __enter__(self) -> Heartbeat:
        if self.interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            elapsed = time.monotonic() - self.started
            try:
                row = self.observer.execute(_QUERY, (self.work_pid,)).fetchone()
            except psycopg.Error:
                row = None  # the report is a courtesy: never let it disturb the run
            wait = f"{row[0]}:{row[1]}" if row and row[1] else "nothing (running)"
            blockers: list[dict[str, Any]] = list(row[2]) if row else []
            who = "; ".join(
                f"pid {b['pid']} ({b['application'] or 'no application_name'}, {b['state']}, "
                f"transaction open {b['transaction_age_s']} s)"
                for b in blockers
            )
            bus.info(
                "migration_progress",
                f"{self.revision}: running for {elapsed:.0f} s, waiting on {wait}"
                + (f", blocked by {who}" if who else ""),
                migration=self.revision,
                elapsed_s=round(elapsed, 1),
                wait_event=wait,
                blockers=blockers,
            )
