"""ops/backup/dump.py: consistent pg_dump backups with manifests, real pg_dump and pg_restore, and a password
that reaches nothing but the tool that needs it."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import (
    assert_no_secret,
    connect_to,
    create_database,
    drop_database,
    run_cli,
)
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup.manifest import BackupManifest
from mandala_db.ops.migrate.loader import History
from revision_data import table_checksums
from support import backup, ok


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("full", ["--format", "custom"]),
        ("full", ["--format", "directory", "--jobs", "2"]),
        ("full", ["--format", "plain"]),
        ("full", ["--compression", "none"]),
        ("schema", []),
        ("data", []),
    ],
)
def test_round_trip_into_a_new_database_keeps_every_row(
    kind: str,
    args: list[str],
    loaded: DatabaseURL,
    conn: psycopg.Connection[Any],
    tmp_path: Path,
    other_db: str,
) -> None:
    (made,) = backup(loaded, tmp_path, kind, *args)
    path = Path(made["path"])
    assert path.parent == tmp_path / kind and path.name.startswith(f"{kind}_backup_")
    manifest = BackupManifest.load(path)
    assert manifest.kind == kind and manifest.head_revision == History.load().head
    target = loaded.with_database(other_db)
    if kind == "data":  # data goes into the schema of its revision
        from mandala_db.ops.migrate import build_schema

        with connect_to(loaded.with_database("postgres")) as admin:
            admin.execute(f'CREATE DATABASE "{other_db}"')
        build_schema(Database(target), manifest.head_revision)
    ok(run_cli("--yes", "restore", "restore", str(path), "--target-db", other_db, url=loaded))
    with connect_to(target) as restored:
        after = table_checksums(restored)
    before = table_checksums(conn)
    if kind == "schema":
        assert set(after) == set(before) and all(n == 0 for n, _ in after.values())
    else:
        assert after == before


def test_all_is_three_dumps_of_one_moment_while_rows_keep_arriving(
    loaded: DatabaseURL, tmp_path: Path, other_db: str
) -> None:
    """A writer inserts users all through `backup all`: the three dumps and the manifests' counts still
    describe one moment, which the restores prove (each checks every table's rows inside its transaction)."""
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        with connect_to(loaded) as w:
            while not stop.is_set():
                w.execute(
                    "INSERT INTO users (email, name) VALUES (%s, 'arriving')",
                    (f"arriving{written[0]}@example.com",),
                )
                written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        made = backup(loaded, tmp_path, "all")
    finally:
        stop.set()
        thread.join()
    assert [b["kind"] for b in made] == ["full", "schema", "data"]
    manifests = [BackupManifest.load(Path(b["path"])) for b in made]
    assert len({m.snapshot for m in manifests}) == 1
    assert manifests[0].row_counts == manifests[2].row_counts
    with connect_to(loaded) as c:
        now = c.execute("SELECT count(*) FROM users").fetchone()
    assert written[0] > 0 and now is not None and now[0] > manifests[0].row_counts["users"]  # rows did arrive
    ok(run_cli("--yes", "restore", "restore", made[0]["path"], "--target-db", other_db, url=loaded))
    ok(run_cli("backup", "verify", "--restore", made[2]["path"], url=loaded))


def test_a_pg_dump_16_backup_of_an_older_server_and_an_explained_missing_tool(
    loaded: DatabaseURL, tmp_path: Path, other_db: str
) -> None:
    with connect_to(loaded) as c:
        major = int(str(c.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    (made,) = backup(loaded, tmp_path, "full", "--pg-version", "16")
    assert BackupManifest.load(Path(made["path"])).pg_dump_version.startswith("16")
    ok(run_cli("--yes", "restore", "restore", made["path"], "--target-db", other_db, url=loaded))
    older = Path("/usr/lib/postgresql/15/bin")
    if major > 15 or not older.exists():
        pytest.skip("needs a PostgreSQL 15 server and its client tools beside pgserver's 16")
    only_old = run_cli("backup", "verify", made["path"], url=loaded, env={"MANDALA_PG_BINDIR": str(older)})
    assert only_old.code == 1
    assert "written by pg_dump 16" in only_old.stderr and "found: pg_restore 15" in only_old.stderr


def test_the_password_reaches_no_output_manifest_log_environment_file_or_command_line(
    password_server: DatabaseURL, tmp_path: Path
) -> None:
    """The client tools are wrapped by scripts that record every argument vector and their whole
    environment, and a sampler reads /proc/PID/environ and cmdline of every child while a restore runs.
    The password reaches the tools only as PGPASSFILE=/dev/fd/N, an in-memory file of mode 600: nothing on
    disk (the runs get a TMPDIR of their own, empty afterwards), nothing in an environment or argument."""
    import pgserver

    real = Path(pgserver.__file__).parent / "pginstall" / "bin"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("pg_dump", "pg_restore", "psql"):
        script = wrappers / tool
        script.write_text(
            "#!/bin/sh\n"
            # One echo per call: pg_restore and psql run side by side in a restore, and two separate
            # lines could interleave with the other tool's (each environment goes to a file of its own).
            f'echo "argv: $0 $* || PGPASSWORD=${{PGPASSWORD:-unset}} passfile=$PGPASSFILE'
            f' mode=$(stat -L -c %a "$PGPASSFILE" 2>/dev/null)" >> {log}\n'
            f"env | sed 's/^/env: /' > {tmp_path}/env-$$.log\n"
            f'exec {real / tool} "$@"\n'
        )
        script.chmod(0o755)
    name = f"mdb_pw_{os.getpid()}"
    create_database(password_server, name)
    url = password_server.with_database(name)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {"MANDALA_PG_BINDIR": str(wrappers), "TMPDIR": str(private_tmp)}
    ok(run_cli("migrate", "deploy", url=url))
    ok(run_cli("seed", "performance", "--scale", "0.03", url=url))
    outputs = [
        ok(
            run_cli(
                "--log-format", "json", "--json", "backup", "full", "--dir", str(tmp_path), url=url, env=env
            )
        ),
        ok(
            run_cli(
                "--log-format",
                "json",
                "backup",
                "verify",
                "--restore",
                "--dir",
                str(tmp_path),
                url=url,
                env=env,
            )
        ),
    ]
    (made,) = list((tmp_path / "full").glob("*.dump"))
    sampled: list[str] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if any(t in cmdline for t in ("pg_restore", "psql", "pg_dump")):
                        environ = (proc / "environ").read_bytes().replace(b"\0", b"\n").decode()
                        sampled.append(f"cmdline: {cmdline}\n{environ}")
                except OSError:
                    continue
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        outputs.append(
            ok(
                run_cli(
                    "--yes",
                    "restore",
                    "restore",
                    str(made),
                    "--target-db",
                    f"{name}_r",
                    "--dir",
                    str(tmp_path),
                    url=url,
                    env=env,
                )
            ),
        )
    finally:
        stop.set()
        sampler.join()
        drop_database(password_server, f"{name}_r")
        drop_database(password_server, name)
    calls = log.read_text() + "".join(p.read_text() for p in sorted(tmp_path.glob("env-*.log")))
    assert "--format=custom" in calls and "pg_restore" in calls and "psql" in calls
    lines = calls.splitlines()
    pairs = [ln.split(" || ", 1) for ln in lines if ln.startswith("argv: ")]
    connecting = [e for a, e in pairs if "dbname=" in a]
    assert len(connecting) == 3, pairs  # pg_dump; psql for verify --restore and for the restore
    assert all(re.fullmatch(r"PGPASSWORD=unset passfile=/dev/fd/\d+ mode=600", e) for e in connecting), pairs
    assert not [ln for ln in lines if ln.startswith(("env: DATABASE_URL=", "env: PGPASSWORD="))]
    assert [s for s in sampled if "psql" in s], "the sampler never saw the restore's psql"
    assert not [s for s in sampled if "DATABASE_URL=" in s]
    manifest_text = "".join(p.read_text() for p in tmp_path.rglob("*.manifest.json"))
    assert_no_secret("\n".join([calls, *sampled, manifest_text, *(r.output for r in outputs)]))
    assert not list(private_tmp.iterdir())  # no password file, no temporary file of any kind
