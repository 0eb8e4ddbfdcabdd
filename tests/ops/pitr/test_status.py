"""ops/pitr/status: what `pitr status` reads on a real stanza: the backups newest first with the WAL each
needs, the WAL the server has archived and when (the point a restore could reach now), and the archive
failures the server counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.ops.pitr.status import status
from servers import ArchivingServer


def test_backups_and_the_reachable_point_are_read_from_the_stanza(archiving_server: ArchivingServer) -> None:
    db = Database(archiving_server.url)
    stanza = archiving_server.ready()
    empty = status(db, stanza)
    assert empty.backups == [] and empty.repo_ok and empty.archived_wal  # setup's check archived one
    stanza.run("--type=full", "backup")  # pgBackRest itself, as `backup --engine pgbackrest` will run it
    with connect_to(archiving_server.url) as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
        conn.execute("SELECT pg_switch_wal()")
    stanza.run("--type=incr", "backup")
    found = status(db, stanza)
    assert [b.type for b in found.backups] == ["incr", "full"]
    incr, full = found.backups
    assert incr.prior == full.label and full.prior is None and full.wal[0] <= full.wal[1] < incr.wal[0]
    assert full.size > 0 and 0 < incr.stored < full.stored
    assert found.archived_at is not None and datetime.now(UTC) - found.archived_at < timedelta(minutes=5)
    assert found.archived_wal is not None and found.archived_wal >= incr.wal[1] and found.failed == 0
