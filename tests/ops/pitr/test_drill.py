"""ops/pitr/drill: the drill on the newest physical backup: restored with the archived WAL into a scratch
cluster, checked (the revision, the data check), timed by phase, its RPO measured against the live
cluster's newest commit, recorded in the drill history, and the scratch cluster removed whatever happens."""

from __future__ import annotations

from pathlib import Path

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.ops.drill.history import history
from mandala_db.ops.migrate import build_schema
from mandala_db.ops.pitr.drill import physical_drill
from ops.pitr.test_restore import archived
from servers import ArchivingServer


def test_the_drill_recovers_the_newest_backup_with_its_wal_and_measures_it(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    archiving_server.restart("-c track_commit_timestamp=on")  # the RPO exact: the newest commit's own time
    db = Database(archiving_server.url)
    build_schema(db, "head")
    stanza = archiving_server.ready()
    stanza.run("--type=full", "backup")
    with connect_to(archiving_server.url) as conn:  # written after the backup: only the WAL brings it back
        conn.execute("INSERT INTO users (email, name) VALUES ('late@example.com', 'Late')")
        archived(conn)
    result = physical_drill(db, stanza, archiving_server.bindir, tmp_path)
    assert result.ok, result.problems
    assert set(result.phases) == {"restore", "replay", "checks"} and all(
        v > 0 for v in result.phases.values()
    )
    # Everything committed was archived before the drill: nothing is lost, to the commit timestamps' precision.
    assert result.rpo_s < 1.0
    assert not Path(result.scratch).exists()  # removed, and no server left on it
    recorded = history(tmp_path)
    assert len(recorded) == 1 and recorded[0]["backup"].startswith("pgbackrest:demo/") and recorded[0]["ok"]


def test_a_drill_with_nothing_to_restore_fails_and_is_recorded(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    db = Database(archiving_server.url)
    result = physical_drill(db, archiving_server.ready(), archiving_server.bindir, tmp_path)
    assert not result.ok and result.problems == ["no physical backup yet"]
    assert history(tmp_path)[0]["ok"] is False
