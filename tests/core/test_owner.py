"""core/owner.py: a leftover carries the pid that made it. The next run removes those whose owner is gone
(saying so in one line) and leaves the work of a live run alone; a zombie counts as gone."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from mandala_db.core.owner import alive, pid_suffix, sweep_temp_dirs, temp_dir


def a_gone_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_alive_knows_a_live_a_gone_and_a_zombie_process() -> None:
    assert alive(os.getpid()) and not alive(0) and not alive(-5)
    assert not alive(a_gone_pid())
    zombie = subprocess.Popen(["true"])
    try:
        while Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            os.sched_yield()  # the child exits; until it is waited for it is a zombie
        assert not alive(zombie.pid)
    finally:
        zombie.wait()


def test_the_sweep_removes_the_folders_of_gone_owners_only() -> None:
    mine = temp_dir("unit-sweep")
    gone = Path(tempfile.mkdtemp(prefix=f"mandala-db-unit-sweep-{a_gone_pid()}-"))
    other = Path(tempfile.mkdtemp(prefix=f"mandala-db-unit-sweepother-{a_gone_pid()}-"))
    try:
        assert sweep_temp_dirs("unit-sweep") == [gone]
        assert mine.exists() and not gone.exists() and other.exists()
    finally:
        for path in (mine, other):
            path.rmdir()


def test_a_name_ending_in_a_pid_gives_it() -> None:
    assert pid_suffix("mandala_drill_db_20261202_4242") == 4242
    assert pid_suffix("mandala_drill_db") is None
