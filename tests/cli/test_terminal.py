"""On a terminal the program asks and shows progress; these run it under a pseudo-terminal, as a person
would use it."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT
from mandala_db.core.database import Database
from mandala_db.core.revision import current_revision
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History


def on_terminal(
    url: DatabaseURL, *args: str, answer: str | None = None, timeout: float = 60, src: Path = ROOT / "src"
) -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pty; type `answer` when the program asks."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=url.render(mask=False), PYTHONPATH=str(src), COLUMNS="120", TERM="xterm")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mandala_db", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    output = b""
    answered = answer is None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"to confirm" in output:
                os.write(primary, (answer or "").encode() + b"\r")
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(primary)
    return proc.returncode, output.decode(errors="replace")


def test_a_reset_on_a_terminal_asks_for_the_typed_word(db_url: DatabaseURL) -> None:
    with Executor(Database(db_url), History.load(), RunOptions()) as ex:
        ex.upgrade()
    code, out = on_terminal(db_url, "migrate", "rollback", "reset", answer="nope")
    assert code == 3 and "Type 'reset' to confirm" in out and "not confirmed" in out
    code, out = on_terminal(db_url, "migrate", "rollback", "reset", answer="reset")
    assert code == 0, out
    import psycopg

    with psycopg.connect(**db_url.libpq_params(), autocommit=True) as c:  # type: ignore[arg-type]
        assert current_revision(c) == History.load().head


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(db_url: DatabaseURL) -> None:
    with Executor(Database(db_url), History.load(), RunOptions()) as ex:
        ex.upgrade()
    code, out = on_terminal(db_url, "seed", "performance", "--scale", "0.1")
    assert code == 0, out
    assert "load performance" in out
    assert "/94000" in out.replace(",", "")  # the rows-done column of the bar
    piped = subprocess.run(
        [sys.executable, "-m", "mandala_db", "seed", "performance", "--scale", "0.1"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "DATABASE_URL": db_url.render(mask=False)},
    )
    assert piped.returncode == 0
    assert "/94000" not in (piped.stdout + piped.stderr).replace(",", "")


def test_a_backfill_shows_its_bar_on_a_terminal(project: Path, db_url: DatabaseURL) -> None:
    from ops.migrate.migratekit import expand_and_contract

    with Executor(Database(db_url), History.load(), RunOptions()) as ex:
        ex.upgrade()
    assert subprocess.run([sys.executable, "-m", "mandala_db", "seed", "demo"], capture_output=True,
                          env={**os.environ, "DATABASE_URL": db_url.render(mask=False)}).returncode == 0  # fmt: skip
    expand_and_contract(project)
    code, out = on_terminal(db_url, "migrate", "deploy", "--batch-size", "5", "--batch-delay", "20ms",
                            src=project / "src")  # fmt: skip
    assert code == 0, out
    assert "backfill: 20991231000000_minutes_v2_expand backfill 1" in out
    assert re.search(r"[\d,]+ rows/s", out), out  # the rate, beside the count and the time left
