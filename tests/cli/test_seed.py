"""cli/seed: `mandala-db seed` asks before a removal like every destructive command."""

from __future__ import annotations

from typing import Any

import psycopg

from cli.clikit import one_error_line
from conftest import run_cli
from mandala_db.core.url import DatabaseURL


def test_seed_remove_asks_like_every_destructive_command(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    assert run_cli("seed", "demo", url=deployed).code == 0
    users = conn.execute("SELECT count(*) FROM users").fetchone()
    refused = run_cli("seed", "demo", "--remove", url=deployed)
    assert refused.code == 3 and "--yes" in one_error_line(refused)
    assert conn.execute("SELECT count(*) FROM users").fetchone() == users
    assert run_cli("--yes", "seed", "demo", "--remove", url=deployed).code == 0
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
