"""core/embedded.py: without a URL, development and test use an embedded PostgreSQL, started once per
project and shared by every command, even by several started at the same moment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli


def _stop_embedded(pgdata: Path) -> None:
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    subprocess.run(["kill", "-INT", str(pid)], check=False)


def test_without_a_url_the_embedded_server_is_started_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = run_cli("migrate", "deploy", env={"MANDALA_STATE_DIR": str(state)}, cwd=tmp_path)
    assert first.code == 0, first.output
    notices = [ln for ln in first.stderr.splitlines() if "embedded PostgreSQL" in ln]
    assert len(notices) == 1 and "(started" in notices[0]
    second = run_cli("--json", "migrate", "status", env={"MANDALA_STATE_DIR": str(state)}, cwd=tmp_path)
    assert second.code == 0
    assert "(running" in second.stderr
    assert json.loads(second.stdout)["status"]["up_to_date"] is True
    _stop_embedded(state / "pgdata")


def test_commands_starting_the_embedded_server_at_once_share_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "MANDALA_STATE_DIR": str(state), "PYTHONPATH": str(ROOT / "src")}
    env.pop("DATABASE_URL", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mandala_db", "migrate", "status"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    try:
        assert [code for code, _ in results] == [0, 0, 0], results
        notes = " ".join(err for _, err in results)
        assert notes.count("(started") == 1 and notes.count("(running") == 2
    finally:
        _stop_embedded(state / "pgdata")
