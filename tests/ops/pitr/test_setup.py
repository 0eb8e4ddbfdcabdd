"""ops/pitr/setup: `pitr setup` on a real cluster. Archiving off refuses in one line with the exact lines to
add, writing nothing; on an archiving cluster it sets archive_command itself, writes a configuration with
no password in it, creates the stanza and proves a WAL segment reaches the repository; run again it changes
nothing; another archiver already in place is never replaced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import SENTINEL_PASSWORD, connect_to
from mandala_db.core.database import Database
from mandala_db.core.errors import CheckFailed, OperationFailed, Refused
from mandala_db.ops.pitr import engine
from mandala_db.ops.pitr.setup import configured, setup
from servers import ARCHIVING, ArchivingServer, ScratchServer, physical_binaries


def settings(server: ArchivingServer) -> dict[str, str]:
    with connect_to(server.url) as conn:
        rows = conn.execute("SELECT name, setting FROM pg_settings WHERE name IN "
                            "('archive_mode', 'archive_command', 'wal_level')").fetchall()  # fmt: skip
    return {str(n): str(v) for n, v in rows}


def test_archiving_off_is_refused_with_the_lines_to_add(archiving_server: ArchivingServer) -> None:
    archiving_server.restart("-c archive_mode=off")
    config = archiving_server.base / "conf" / "pgbackrest.conf"
    with pytest.raises(CheckFailed) as refused:
        setup(Database(archiving_server.url), "demo", str(archiving_server.base / "repo"), config)
    line = str(refused.value)
    assert "archive_mode is off" in line and "archive_mode = on" in line and "archive_command = '" in line
    assert "\n" not in line and not config.exists() and not (archiving_server.base / "repo").exists()
    assert settings(archiving_server)["archive_command"] in ("", "(disabled)")


def test_an_archiving_cluster_is_set_up_and_its_archiving_proved(archiving_server: ArchivingServer) -> None:
    config = archiving_server.base / "conf" / "pgbackrest.conf"
    repo = archiving_server.base / "repo"
    # A password in the URL (trust ignores it) must reach neither the configuration nor the server's settings.
    db = Database(archiving_server.url.with_password(SENTINEL_PASSWORD))
    done = setup(db, "demo", str(repo), config)
    assert done.archive_command_set and done.checks[-1].startswith("WAL archived and found in the repository")
    text = config.read_text()
    assert f"pg1-path={archiving_server.pgdata}" in text and f"repo1-path={repo}" in text
    assert SENTINEL_PASSWORD not in text and "password" not in text.lower()
    command = settings(archiving_server)["archive_command"]
    assert command.endswith(f"--config={config.resolve()} --stanza=demo archive-push %p")
    assert SENTINEL_PASSWORD not in command
    assert any((repo / "archive" / "demo").rglob("*.gz")) or any((repo / "archive" / "demo").rglob("0000*"))
    assert configured(db, "demo", config).repo.raw == str(repo)  # read back as the later commands read it
    again = setup(db, "demo", str(repo), config)  # nothing to change the second time
    assert not again.archive_command_set and settings(archiving_server)["archive_command"] == command


def test_another_archiver_is_never_replaced(archiving_server: ArchivingServer, tmp_path: Path) -> None:
    archiving_server.restart("-c archive_command='cp %p /mnt/wal/%f'")
    with pytest.raises(Refused, match="archive_command already ships WAL elsewhere: cp %p /mnt/wal/%f"):
        setup(Database(archiving_server.url), "demo", str(tmp_path / "repo"), tmp_path / "conf" / "x.conf")
    assert settings(archiving_server)["archive_command"] == "cp %p /mnt/wal/%f"


def test_a_postgresql_too_new_for_this_pgbackrest_fails_in_one_line(
    scratch_server: ScratchServer, tmp_path: Path
) -> None:
    # pgserver's PostgreSQL 16 beside Debian bookworm's pgBackRest 2.45, which knows up to 15.
    if physical_binaries() is None or engine.version() >= "2.47":
        pytest.skip("needs a pgBackRest older than PostgreSQL 16 support (Debian bookworm's 2.45)")
    base, port = Path(scratch_server.url.params[0][1]), scratch_server.url.params[1][1]
    subprocess.run([*scratch_server.prefix, str(scratch_server.bindir / "pg_ctl"), "-D", str(scratch_server.pgdata),
                    "-l", str(base / "restart.log"), "-w", "-m", "fast", "-o", f"-k {base} -h '' -p {port} {ARCHIVING}",
                    "restart"], check=True, capture_output=True)  # fmt: skip
    # A configuration under pytest's folder, private to root: the cluster's user could not read it.
    with pytest.raises(Refused, match="out of reach of the cluster's user"):
        setup(
            Database(scratch_server.url),
            "demo",
            str(tmp_path / "repo"),
            tmp_path / "conf" / "pgbackrest.conf",
        )
    with pytest.raises(OperationFailed) as failed:
        setup(Database(scratch_server.url), "demo", str(base / "repo"), base / "conf" / "pgbackrest.conf")
    assert str(failed.value).endswith("does not support this PostgreSQL version: install a newer pgBackRest")
    assert "\n" not in str(failed.value)
