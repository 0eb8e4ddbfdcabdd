"""cli/server: `mandala-db server status|stop` on the project's embedded PostgreSQL: what is there, said in
one line (or one JSON document), and a stop that says whether anything was running."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli


def test_no_server_yet_is_said_and_stop_has_nothing_to_stop(tmp_path: Path) -> None:
    env = {"MANDALA_STATE_DIR": str(tmp_path / "state")}
    status = run_cli("server", "status", env=env)
    assert status.code == 0 and status.stdout.startswith("none: no embedded server under ")
    doc = json.loads(run_cli("--json", "server", "status", env=env).stdout)
    assert doc["ok"] and doc["running"] is False and doc["exists"] is False
    stop = run_cli("server", "stop", env=env)
    assert (stop.code, stop.stdout) == (0, "not running\n")
    assert json.loads(run_cli("--json", "server", "stop", env=env).stdout) == {"ok": True, "stopped": False}
    assert not (tmp_path / "state" / "pgdata").exists()  # asking started nothing


def test_no_subcommand_shows_the_help() -> None:
    result = run_cli("server")
    assert "status" in result.output and "stop" in result.output
