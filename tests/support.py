"""Helpers and fixtures the backup and restore tests share: a loaded database, a backup taken through the
command line, a database name to restore into."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    Result,
    drop_database,
    run_cli,
)
from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import Database
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


@pytest.fixture
def loaded(db_url: DatabaseURL, tmp_path: Path) -> DatabaseURL:
    """A migrated database with rows in every table (the `test` data set) and a little volume."""
    with Executor(Database(db_url), History.load(), RunOptions()) as ex:
        ex.upgrade()
    ok(run_cli("seed", "test", url=db_url))
    ok(run_cli("seed", "performance", "--scale", "0.01", url=db_url))
    return db_url


def backup(url: DatabaseURL, directory: Path, *args: str) -> list[dict[str, Any]]:
    result = ok(run_cli("--json", "backup", *args, "--dir", str(directory), url=url))
    return list(json.loads(result.stdout)["backups"])


@pytest.fixture
def other_db(admin_url: DatabaseURL) -> Iterator[str]:
    name = f"mdb_restored_{os.getpid()}_{time.monotonic_ns() % 100000}"
    yield name
    drop_database(admin_url, name)
