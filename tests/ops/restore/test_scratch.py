"""ops/restore/scratch.py: a scratch database says what made it, for which database and by which process;
the clean-up of one purpose drops the copies its dead runs left, and nothing else: not a copy whose run is
alive, not another purpose's, not one someone is connected to."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import psycopg

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.restore.scratch import drop_leftover_scratch, scratch_name, scratch_prefix


def databases(conn: psycopg.Connection[Any], prefix: str) -> set[str]:
    return {
        r[0]
        for r in conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,))
    }


def test_only_the_copies_of_dead_runs_of_the_same_purpose_are_dropped(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    db = Database(db_url)
    mine = scratch_name(db, "verify")
    assert mine.startswith(scratch_prefix(db, "verify")) and mine.endswith(f"_{os.getpid()}")
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = f"{scratch_prefix(db, 'verify')}20260101000000_{gone.pid}"
    other = f"{scratch_prefix(db, 'drill')}20260101000000_{gone.pid}"
    busy = f"{scratch_prefix(db, 'verify')}20260101000001_{gone.pid}"
    with connect_to(db_url.with_database("postgres")) as admin:
        for name in (mine, dead, other, busy):
            admin.execute(f'CREATE DATABASE "{name}"')
    holder = connect_to(db_url.with_database(busy))  # someone is looking at it: not a leftover yet
    try:
        assert drop_leftover_scratch(db, "verify") == [dead]
        left = databases(conn, "mandala_")
        assert dead not in left and {mine, other, busy} <= left
    finally:
        holder.close()
        with connect_to(db_url.with_database("postgres")) as admin:
            for name in (mine, other, busy):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
