"""ops/monitor/logs.py: `logs tail` reads the run ledger when nothing is shipped, and follows new runs as they
happen."""

from __future__ import annotations

import json
import subprocess
import threading

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok


def test_logs_tail_reads_the_ledger_when_nothing_is_shipped(db_url: DatabaseURL) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    out = ok(run_cli("logs", "tail", "--filter", "split_reflections", url=db_url)).stdout.splitlines()
    assert len(out) == 1 and "migration complete: 20250409000000_split_reflections" in out[0]
    records = [
        json.loads(line) for line in ok(run_cli("--json", "logs", "tail", url=db_url)).stdout.splitlines()
    ]
    assert len(records) == 7 and records[0]["metadata"]["action"] == "migration_complete"
    assert records[0]["metadata"]["tables"] == []  # the first revision creates its tables: none existed
    history = json.loads(ok(run_cli("--json", "migrate", "status", "history", url=db_url)).stdout)["history"]
    assert any(h["tables"] for h in history)  # later revisions touch existing tables, and say which


def test_logs_tail_follow_prints_runs_as_they_happen(db_url: DatabaseURL) -> None:
    import os
    import signal
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATABASE_URL": db_url.render(mask=False),
    }
    # Interrupted as at a terminal: a suite started in the background (as CI may run it) passes SIGINT on
    # ignored, Python keeps an ignored SIGINT ignored, and the follower would never stop. It gets the
    # default disposition back, as a user's shell gives it.
    follower = subprocess.Popen([sys.executable, "-m", "mandala_db", "logs", "tail", "--follow"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    lines: list[str] = []
    all_seen = threading.Event()

    def read() -> None:
        assert follower.stdout is not None
        for line in follower.stdout:
            lines.append(line)
            if sum("migration complete:" in ln for ln in lines) == 7:
                all_seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ok(run_cli("migrate", "deploy", url=db_url))
        # The event aimed at: the follower printed every run of the deploy (not a wall-clock guess).
        assert all_seen.wait(60), "".join(lines)
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=60)
        reader.join(timeout=10)
    out, err = "".join(lines), follower.stderr.read() if follower.stderr else ""
    assert follower.returncode == 0 and out.count("migration complete:") == 7, (out, err)
