"""Backups and restores that cannot lie: damage behind a matching checksum, kills at any moment, scripts
that would run commands, resealed manifests. After every refusal and every kill the target is compared
whole (indexes, constraints, triggers, rows and content, pg_dump's schema) with the state before."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import (
    TEST_BACKUPS,
    Result,
    connect_to,
    create_database,
    database_state,
    drop_database,
    from_template,
    run_cli,
)
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup import BackupManifest
from support import build_loaded, damage, reseal, take_backup


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def one_error(result: Result, code: int) -> str:
    assert result.code == code, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


@pytest.fixture
def source(db_url: DatabaseURL, admin_url: DatabaseURL) -> DatabaseURL:
    """Migrated, with the `test` data set and some volume: a copy of a template built once per process."""
    return from_template(admin_url, db_url, "source", lambda url: build_loaded(url, "0.02"))


def every_reader(path: Path, backup_dir: Path) -> list[list[str]]:
    """The three commands that read a backup and must refuse a bad one before the target is touched."""
    return [
        ["backup", "verify", str(path)],
        ["backup", "verify", "--restore", str(path)],
        ["--yes", "restore", "restore", str(path), "--dir", str(backup_dir)],
    ]


DAMAGES = [
    "truncated by 5 bytes",
    "truncated at 60%",
    "truncated at 90%",
    "bit flipped in the table of contents",
    "bit flipped in the first data block",
    "bit flipped in the middle",
    "bit flipped in the last data block",
    "bit flipped in the last 4 bytes",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_an_archive_damaged_behind_a_matching_checksum_is_refused_and_the_target_is_untouched(
    how: str, source: DatabaseURL, tmp_path: Path
) -> None:
    path = take_backup(source, tmp_path)
    damage(path, how)
    with connect_to(source) as c:
        c.execute("UPDATE goals SET title = 'changed after the backup' WHERE progress = 0")
    before = database_state(source)
    for args in every_reader(path, tmp_path):
        line = one_error(run_cli(*args, url=source), 2)
        assert "damaged" in line or "differ from those recorded" in line, line
        assert database_state(source) == before, f"{args} changed the target"
    with connect_to(source) as c:
        scratch = c.execute(
            "SELECT count(*) FROM pg_database WHERE starts_with(datname, %s)",
            (f"mandala_verify_{source.dbname}_",),
        ).fetchone()
        assert scratch == (0,)
    # Both verifications are on record as failed: nothing may count this backup as proven.
    manifest = BackupManifest.load(path)
    assert [v["ok"] for v in manifest.verifications] == [False, False]
    assert manifest.last_verified is None


def test_a_table_of_contents_bit_flip_is_named_by_verify(source: DatabaseURL, tmp_path: Path) -> None:
    """`public` became `purlic`: pg_restore -l and a full read both pass, the recorded digest does not."""
    path = take_backup(source, tmp_path)
    damage(path, "bit flipped in the table of contents")
    line = one_error(run_cli("backup", "verify", str(path), url=source), 2)
    assert "the objects it holds differ from those recorded when it was written" in line


# -- kills --------------------------------------------------------------------------------------------------


def processes(matching: Callable[[str], bool]) -> list[tuple[int, str]]:
    """Running processes whose command line matches, as (pid, command line)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        cmdline = _cmdline(proc)
        if cmdline and matching(cmdline):
            found.append((int(proc.name), cmdline))
    return found


def children_with(marker: str) -> list[tuple[int, str]]:
    """Processes of ours still running: a client tool whose command line carries the marker."""
    return processes(lambda c: marker in c and any(t in c for t in ("pg_dump", "pg_restore", "psql")))


def wait_until_gone(marker: str, timeout: float = 10) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    while (left := children_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def wait_for_sessions_to_end(admin: psycopg.Connection[Any], database: str) -> None:
    """A killed client's session ends when the server notices; then its transaction is rolled back."""
    for _ in range(600):
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE 'mandala-db:%%'",
            (database,),
        ).fetchone()
        if row == (0,):
            return
        time.sleep(0.05)
    raise AssertionError(f"sessions on {database} did not end")


def start_cli(
    *args: str, url: DatabaseURL, env: dict[str, str] | None = None, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    child_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MANDALA_ENV", "NODE_ENV")}
    child_env.update({"DATABASE_URL": url.render(mask=False), "BACKUP_DIR": TEST_BACKUPS, **(env or {})})
    return subprocess.Popen(
        [sys.executable, "-m", "mandala_db", *args],
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


POST_DATA = "(query ILIKE 'CREATE INDEX%%' OR query ILIKE 'ALTER TABLE%%ADD CONSTRAINT%%' OR query ILIKE 'CREATE TRIGGER%%')"


@pytest.mark.slow
@pytest.mark.parametrize("aim", ["post-data", "data"])
def test_a_killed_restore_leaves_the_old_state_or_the_new_never_between(
    aim: str, source: DatabaseURL, admin_url: DatabaseURL, tmp_path: Path
) -> None:
    kills = int(os.environ.get("MANDALA_TEST_KILLS", "6"))
    path = take_backup(source, tmp_path)
    target = f"mdb_kill_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    create_database(admin_url, target)
    target_url = source.with_database(target)
    restore_args = ("--yes", "restore", "restore", str(path), "--target-db", target, "--dir", str(tmp_path))
    try:
        ok(run_cli(*restore_args, url=source))
        new_state = database_state(target_url)

        def make_old() -> dict[str, Any]:
            with connect_to(target_url) as c:
                c.execute("UPDATE goals SET title = 'the old state' WHERE progress = 0")
                c.execute("DELETE FROM tasks WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT 50)")
            return database_state(target_url)

        old_state = make_old()
        outcomes = {"old": 0, "new": 0}
        aimed = 0
        with connect_to(admin_url) as admin:
            for _ in range(kills):
                proc = start_cli(*restore_args, url=source)
                # Aimed at what the restore's session is doing, never at a moment on the clock: building
                # indexes and constraints (post-data), or loading rows (COPY ... FROM stdin).
                phase = POST_DATA if aim == "post-data" else "query ILIKE 'COPY %%'"
                while proc.poll() is None:
                    row = admin.execute(
                        f"SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND {phase} "
                        "AND application_name LIKE 'mandala-db:restore:%%'",
                        (target,),
                    ).fetchone()
                    if row and row[0]:
                        aimed += 1
                        break
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                assert wait_until_gone(str(path)) == []
                assert wait_until_gone("application_name=mandala-db\\:restore") == []
                wait_for_sessions_to_end(admin, target)
                state = database_state(target_url)
                if state == new_state:
                    outcomes["new"] += 1
                    old_state = make_old()
                else:
                    assert state == old_state, "the target is neither as it was nor as the backup says"
                    outcomes["old"] += 1
        assert aimed >= kills // 2, f"only {aimed} of {kills} kills landed in the {aim} phase"
        assert outcomes["old"] > 0, outcomes
        ok(run_cli(*restore_args, url=source))  # and a rerun succeeds
        assert database_state(target_url) == new_state
    finally:
        drop_database(admin_url, target)


@pytest.mark.slow
def test_a_killed_backup_leaves_no_child_no_password_file_and_lists_nothing_partial(
    password_server: DatabaseURL, tmp_path: Path
) -> None:
    name = f"mdb_bk_{os.getpid()}"
    create_database(password_server, name)
    url = password_server.with_database(name)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    directory = tmp_path / "backups"
    env = {"TMPDIR": str(private_tmp)}
    try:
        ok(run_cli("migrate", "deploy", url=url))
        ok(run_cli("seed", "performance", "--scale", "0.03", url=url))
        take_backup(url, directory, env=env)
        # Kills aimed at the backup's own events, three times each: its start record (pg_dump on its way),
        # the partial dump appearing on disk, its completion record (the manifest and the rename done).
        for aim in ("backup_start", "partial", "backup_complete") * 3:
            proc = start_cli("--log-format", "json", "backup", "full", "--dir", str(directory), url=url,
                             env=env, stderr=subprocess.PIPE)  # fmt: skip
            assert proc.stderr is not None
            if aim == "partial":
                while proc.poll() is None and not list((directory / "full").glob("*.partial")):
                    time.sleep(0.005)
            else:
                for line in proc.stderr:
                    if f'"action": "{aim}"' in line.decode():
                        break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            assert wait_until_gone(str(directory)) == []
            assert not list(private_tmp.iterdir())  # no password file, nothing at all
        listing = json.loads(
            ok(run_cli("--json", "restore", "list", "--dir", str(directory), url=url)).stdout
        )
        for listed in listing["local"]:  # whatever is listed is whole
            ok(run_cli("backup", "verify", listed["path"], url=url))
        names = {Path(b["path"]).name for b in listing["local"]}
        on_disk = {p.name for p in (directory / "full").iterdir()}
        kept = names | {BackupManifest.path_for(Path(n)).name for n in names}
        unlisted = on_disk - kept  # partial dumps, manifests of dumps never renamed, cut-short .tmp files
        # Their owners are gone: cleanup sweeps what the kills left at once and says so; the backups stay.
        swept = json.loads(
            ok(run_cli("--yes", "--json", "backup", "cleanup", "--dir", str(directory), url=url)).stdout
        )
        assert {Path(p).name for p in swept["leftovers_deleted"]} == unlisted
        assert {p.name for p in (directory / "full").iterdir()} == kept
    finally:
        drop_database(password_server, name)


def test_cleanup_sweeps_only_old_leftovers_of_its_own_naming(source: DatabaseURL, tmp_path: Path) -> None:
    path = take_backup(source, tmp_path)
    full = tmp_path / "full"
    old = time.time() - 7200
    cut_short = full / "full_backup_20260101_000000.dump.partial"
    no_manifest = full / "full_backup_20260101_000001.dump"
    young = full / "full_backup_20260101_000002.dump.partial"
    foreign = full / "notes.dump"
    for p in (cut_short, no_manifest, young, foreign):
        p.write_bytes(b"x")
    for p in (cut_short, no_manifest, foreign):
        os.utime(p, (old, old))
    dry = json.loads(
        ok(run_cli("--json", "backup", "cleanup", "--dry-run", "--dir", str(tmp_path), url=source)).stdout
    )
    assert sorted(Path(p).name for p in dry["would_delete_leftovers"]) == sorted(
        [cut_short.name, no_manifest.name]
    )
    assert run_cli("backup", "cleanup", "--dir", str(tmp_path), url=source).code == 3  # asks first
    result = ok(run_cli("--yes", "backup", "cleanup", "--dir", str(tmp_path), url=source))
    assert "a dump cut short" in result.stdout
    assert not cut_short.exists() and not no_manifest.exists()
    assert young.exists() and foreign.exists() and path.exists()
    listing = json.loads(ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=source)).stdout)
    assert [Path(b["path"]).name for b in listing["local"]] == [path.name]


# -- scripts that would run commands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "injection",
    [
        "\\! touch {pwned}\n",
        "SELECT 1; \\! touch {pwned}\n",
        "SELECT 'a' AS x \\g {pwned}\n",
        "\\o {pwned}\n",
    ],
)
def test_a_plain_backup_that_would_run_a_command_is_refused_and_nothing_runs(
    injection: str, source: DatabaseURL, tmp_path: Path
) -> None:
    path = take_backup(source, tmp_path, "--format", "plain")
    pwned = tmp_path / "PWNED"
    lines = [
        ln
        for ln in path.read_text().splitlines(keepends=True)
        if not ln.startswith(("\\restrict", "\\unrestrict"))
    ]
    at = next(i for i, ln in enumerate(lines) if ln.startswith("SET "))
    lines.insert(at + 1, injection.format(pwned=pwned))
    path.write_text("".join(lines))
    reseal(path)
    before = database_state(source)
    for args in every_reader(path, tmp_path):
        line = one_error(run_cli(*args, url=source), 2)
        assert "pg_dump never writes; refused, nothing of it was run" in line, line
        assert not pwned.exists()
        assert database_state(source) == before


def test_a_plain_backup_restores_when_untouched(
    source: DatabaseURL, tmp_path: Path, admin_url: DatabaseURL
) -> None:
    path = take_backup(source, tmp_path, "--format", "plain")
    ok(run_cli("backup", "verify", "--restore", str(path), url=source))
    ok(run_cli("--yes", "restore", "restore", str(path), "--dir", str(tmp_path), url=source))


# -- signed manifests ---------------------------------------------------------------------------------------


def test_with_a_key_a_manifest_rewritten_by_hand_is_refused(source: DatabaseURL, tmp_path: Path) -> None:
    key = {"MANDALA_BACKUP_KEY": "k3y-for-tests-0123456789abcdef"}
    path = take_backup(source, tmp_path, env=key)
    manifest_path = BackupManifest.path_for(path)
    ok(run_cli("backup", "verify", str(path), url=source, env=key))  # and it is signed again with the result
    signed = json.loads(manifest_path.read_text())
    assert signed["signature"]["alg"] == "hmac-sha256" and signed["verifications"][0]["ok"]
    assert key["MANDALA_BACKUP_KEY"] not in manifest_path.read_text()
    before = database_state(source)

    def rewrite(change: dict[str, Any]) -> None:
        data = json.loads(manifest_path.read_text())
        data.update(change)
        manifest_path.write_text(json.dumps(data))

    rewrite({"row_counts": {**signed["row_counts"], "users": 0}})
    for args in (
        ["backup", "verify", str(path)],
        ["--yes", "restore", "restore", str(path), "--dir", str(tmp_path)],
    ):
        assert "does not match its signature" in one_error(run_cli(*args, url=source, env=key), 2)
        assert database_state(source) == before
    rewrite({"signature": None})
    assert "is not signed" in one_error(run_cli("backup", "verify", str(path), url=source, env=key), 2)
    rewrite({"signature": signed["signature"], "row_counts": signed["row_counts"]})
    other = {"MANDALA_BACKUP_KEY": "another-key"}
    assert "signed with another key" in one_error(
        run_cli("backup", "verify", str(path), url=source, env=other), 2
    )
    assert "no key is configured" in one_error(run_cli("backup", "verify", str(path), url=source), 2)
    key_file = tmp_path / "key"
    key_file.write_text(key["MANDALA_BACKUP_KEY"] + "\n")
    ok(run_cli("backup", "verify", str(path), url=source, env={"MANDALA_BACKUP_KEY_FILE": str(key_file)}))


@pytest.mark.parametrize(
    ("command", "stalls", "workers"),
    [
        ("backup", "pg_dump", 0),
        ("backup", "pg_dump", 1),
        ("restore", "psql", 0),
        ("restore", "pg_restore", 0),
    ],
)
def test_children_die_with_the_tool_even_when_they_would_outlive_it(
    command: str, stalls: str, workers: int, source: DatabaseURL, tmp_path: Path
) -> None:
    """A client tool that would run for a minute (a wrapper that sleeps, marked on its command line) is
    gone within a second of the tool's SIGKILL, and so are the workers it forked (as pg_dump --jobs does:
    a forked worker does not inherit the parent-death signal; the watchdog kills the whole group)."""
    import pgserver

    real = Path(pgserver.__file__).parent / "pginstall" / "bin"
    path = take_backup(source, tmp_path) if command == "restore" else None
    marker = f"mandala-stall-{os.getpid()}-{time.monotonic_ns()}"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for tool in ("pg_dump", "pg_restore", "psql"):
        body = f'exec {real / tool} "$@"\n'
        if tool == stalls:
            # `workers` forked children, each sleeping a minute, beside the parent doing the same.
            sleeper = f"import os, time; [os.fork() for _ in range({workers}) if os.getpid()]; time.sleep(60)"
            body = f'[ "$1" = --version ] && exec {real / tool} --version\nexec {sys.executable} -c "{sleeper}" {marker}\n'
        (wrappers / tool).write_text("#!/bin/sh\n" + body)
        (wrappers / tool).chmod(0o755)
    args = (
        ("backup", "full", "--dir", str(tmp_path))
        if path is None
        else (
            "--yes",
            "restore",
            "restore",
            str(path),
            "--target-db",
            f"mdb_stall_{os.getpid()}",
            "--dir",
            str(tmp_path),
        )
    )
    proc = start_cli(*args, url=source, env={"MANDALA_PG_BINDIR": str(wrappers)})
    try:
        deadline = time.monotonic() + 30
        while len(processes(lambda c: c.endswith(marker))) < 1 + workers:
            assert time.monotonic() < deadline and proc.poll() is None, "the stalled tool never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 1
        while (left := processes(lambda c: c.endswith(marker))) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not left, "a child outlived the tool"
    finally:
        for pid, _ in processes(lambda c: c.endswith(marker)):
            os.kill(pid, signal.SIGKILL)
        if path is not None:
            with connect_to(source) as c:
                c.execute(f'DROP DATABASE IF EXISTS "mdb_stall_{os.getpid()}" WITH (FORCE)')


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""
