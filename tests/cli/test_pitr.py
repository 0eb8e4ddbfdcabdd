"""cli/pitr: `pitr setup` and `pitr status` on a real archiving cluster, in words and in JSON; a stanza with
no configuration, or a name pgBackRest would refuse, is bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from servers import ArchivingServer


def set_up(server: ArchivingServer) -> str:
    """`pitr setup` through the command line, for the tests of what comes after it: the configuration."""
    done = run_cli("pitr", "setup", "--stanza", "demo", "--repo", str(server.repo), "--config", str(server.config),
                   url=server.url)  # fmt: skip
    assert done.code == 0, done.output
    return str(server.config)


def test_setup_then_status(archiving_server: ArchivingServer, tmp_path: Path) -> None:
    url, config = archiving_server.url, str(archiving_server.base / "conf" / "pgbackrest.conf")
    repo = str(archiving_server.base / "repo")
    missing = run_cli("pitr", "status", "--stanza", "demo", "--config", config, url=url)
    assert missing.code == 2 and "run `mandala-db pitr setup --stanza demo` first" in missing.stderr
    done = run_cli("pitr", "setup", "--stanza", "demo", "--repo", repo, "--config", config, url=url)
    assert done.code == 0, done.output
    assert f"Stanza demo ready: repository {repo}" in done.stdout and "archive_command set" in done.stdout
    st = run_cli("pitr", "status", "--stanza", "demo", "--config", config, url=url)
    assert st.code == 0 and "no backups yet" in st.stdout and "a restore could reach 20" in st.stdout
    data = json.loads(
        run_cli("--json", "pitr", "status", "--stanza", "demo", "--config", config, url=url).stdout
    )
    assert data["ok"] and data["backups"] == [] and data["recovery_point"] and data["archive_failures"] == 0
    bad = run_cli("pitr", "setup", "--stanza", "no good", "--repo", repo, "--config", config, url=url)
    assert bad.code == 2 and "letters, digits" in bad.stderr


def test_restore_pitr_recovers_a_copy_on_its_own_port(archiving_server: ArchivingServer) -> None:
    from mandala_db.core.database import Database
    from mandala_db.ops.pitr.setup import stanza_for

    url, base = archiving_server.url, archiving_server.base
    config = set_up(archiving_server)
    neither = run_cli(
        "restore", "pitr", "--stanza", "demo", "--config", config, "--target-dir", str(base / "c"), url=url
    )
    assert (
        neither.code == 2
        and "exactly one of --to-time TIMESTAMP, --to-revision REV and --latest" in neither.stderr
    )
    stanza_for(Database(url), "demo", "", Path(config)).run("--type=full", "backup")
    done = run_cli("--json", "restore", "pitr", "--stanza", "demo", "--config", config, "--latest", "--target-dir",
                   str(base / "copy"), url=url)  # fmt: skip
    try:
        assert done.code == 0, done.output
        data = json.loads(done.stdout)
        assert data["ok"] and data["target"] == "latest" and data["data_dir"] == str(base / "copy")
        status = run_cli("pitr", "status", "--stanza", "demo", "--config", config, url=url)
        assert "full" in status.stdout  # the live cluster's stanza, still serving
    finally:
        archiving_server.stop_copy(base / "copy")


def test_physical_backups_are_taken_listed_and_counted(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    url = archiving_server.url
    config = set_up(archiving_server)
    backups = {"BACKUP_DIR": str(tmp_path)}
    for bad, line in [
        (
            ("backup", "schema", "--engine", "pgbackrest", "--stanza", "demo"),
            "a physical backup is of the whole cluster",
        ),
        (("backup", "incr", "--engine", "pg_dump", "--stanza", "demo"), "only --engine pgbackrest takes one"),
        (("backup", "diff"), "needs --stanza"),
        (("backup", "full", "--engine", "tar"), "is not an engine"),
    ]:
        result = run_cli(*bad, url=url, env=backups)
        assert result.code == 2 and line in result.stderr, result.output
    done = run_cli(
        "backup",
        "full",
        "--engine",
        "pgbackrest",
        "--stanza",
        "demo",
        "--config",
        config,
        url=url,
        env=backups,
    )
    assert done.code == 0 and "pgBackRest full backup " in done.stdout, done.output
    incr = run_cli("--json", "backup", "incr", "--stanza", "demo", "--config", config, url=url, env=backups)
    assert incr.code == 0 and json.loads(incr.stdout)["backup"]["prior"]
    listed = run_cli("restore", "list", url=url, env=backups)
    assert "Physical backups (pgBackRest):" in listed.stdout and listed.stdout.count("demo/") == 2
    stats = json.loads(run_cli("--json", "backup", "stats", url=url, env=backups).stdout)
    assert stats["physical"]["full"]["count"] == 1 and stats["physical"]["incr"]["count"] == 1


def test_cleanup_expires_physical_backups_under_the_same_retention(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    url = archiving_server.url
    config = set_up(archiving_server)
    backups = {"BACKUP_DIR": str(tmp_path)}
    for _ in range(2):
        assert run_cli("backup", "full", "--engine", "pgbackrest", "--stanza", "demo", "--config", config, url=url,
                       env=backups).code == 0  # fmt: skip
    args = ("backup", "cleanup", "--engine", "pgbackrest", "--stanza", "demo", "--config", config, "--keep", "1",
            "--retention-days", "0")  # fmt: skip
    planned = run_cli(*args, "--dry-run", url=url, env=backups)
    assert planned.code == 0 and "would expire 1 backup(s)" in planned.stdout
    refused = run_cli(*args, url=url, env=backups)
    assert refused.code == 3 and "refused without confirmation" in refused.stderr
    done = run_cli("--yes", *args, url=url, env=backups)
    assert done.code == 0 and "expired 1 backup(s)" in done.stdout
    assert len(list((tmp_path / "physical" / "demo").glob("*.manifest.json"))) == 1


def test_drill_on_the_newest_physical_backup(archiving_server: ArchivingServer, tmp_path: Path) -> None:
    url, backups = archiving_server.url, {"BACKUP_DIR": str(tmp_path)}
    assert run_cli("drill", "--engine", "pgbackrest", url=url, env=backups).code == 2
    config = set_up(archiving_server)
    assert run_cli("backup", "full", "--engine", "pgbackrest", "--stanza", "demo", "--config", config, url=url,
                   env=backups).code == 0  # fmt: skip
    done = run_cli(
        "drill", "--engine", "pgbackrest", "--stanza", "demo", "--config", config, url=url, env=backups
    )
    assert done.code == 0, done.output
    assert (
        "Drill passed: pgbackrest:demo/" in done.stdout and "removed" in done.stdout and "RPO" in done.stdout
    )
    assert "pgbackrest:demo/" in run_cli("drill", "history", url=url, env=backups).stdout
