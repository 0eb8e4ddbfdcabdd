"""A restore's one transaction, which only this process can commit.

`psql --single-transaction` commits when its input ends, whatever ended it: a pg_restore that dies half-way
leaves a committed half restore. Here psql gets `BEGIN` from us, the backup's SQL through the guard, then
our check (rows, revision, and the catalog snapshot the fingerprint is computed from); `COMMIT` is written
only once pg_restore exited 0 and every check held. If anything else happens, psql never sees a COMMIT: its
session is terminated and the server rolls the transaction back. If this process is killed, psql dies
with it (parent-death signal) and its session ends without a COMMIT all the same.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import time
import uuid
from typing import IO

from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.events import bus
from mandala_db.core.process import ToolProcess, conninfo
from mandala_db.core.revision import revision_check_sql
from mandala_db.core.tools import ClientTool
from mandala_db.ops.restore.guard import ScriptGuard

CHECK_MARKER = "mandala-db check:"
_SNAPSHOT_MARKER = "mandala-db snapshot:"
_CHUNK = 1 << 20


class PsqlGone(Exception):
    """psql stopped reading: it met an error (ON_ERROR_STOP) or was killed."""


class RestoreTransaction:
    def __init__(self, db: Database, psql: ClientTool) -> None:
        # A name of its own, so that abort() can find and end exactly this session.
        self.db = db.named(f"{db.application_name}:{uuid.uuid4().hex[:12]}")
        self.application_name = self.db.application_name
        self._results: queue.Queue[str] = queue.Queue()
        self.psql = ToolProcess(
            [
                str(psql.path),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                f"--dbname={conninfo(self.db.url, self.application_name)}",
            ],
            self.db.url,
            stdin=subprocess.PIPE,
            on_line=self._line,
        )
        self.finished = False

    def begin(self) -> None:
        self.write(b"BEGIN;\n")

    def _line(self, line: str) -> None:
        if _SNAPSHOT_MARKER in line:
            self._results.put(line.split(_SNAPSHOT_MARKER, 1)[1])

    def write(self, data: bytes) -> None:
        try:
            self.psql.stdin.write(data)
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise PsqlGone() from exc

    def pump(self, source: IO[bytes], guard: ScriptGuard) -> None:
        """Everything `source` yields, read by the guard before psql sees it."""
        fd = source.fileno()
        while True:
            block = os.read(fd, _CHUNK)
            if not block:
                break
            guard.feed(block)
            self.write(block)
        guard.close()
        self.flush()

    def flush(self) -> None:
        try:
            self.psql.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise PsqlGone() from exc

    def failure(self) -> str:
        """Why psql stopped, in its own words (it has exited, or is made to)."""
        try:
            code = self.psql.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.psql.kill()
            code = -9
        line = self.psql.error_line(code)
        return line.split("ERROR:", 1)[1].strip() if "ERROR:" in line else line

    def check(self, check_sql: str, schema: str) -> catalog.Snapshot:
        """Run the in-transaction check; return the catalog snapshot the restored schema has right now."""
        literal = schema.replace("'", "''")
        self.write(
            f"""RESET search_path;
SET client_min_messages = warning;
{check_sql};
DO $mandala_snapshot$ BEGIN
    RAISE WARNING '{_SNAPSHOT_MARKER}%', ({catalog.snapshot_json_sql(literal)})::jsonb::text;
END $mandala_snapshot$;
""".encode()
        )
        self.flush()
        while True:
            try:
                found = self._results.get(timeout=0.2)
            except queue.Empty:
                if self.psql.proc.poll() is None:
                    continue
                self.psql.wait()  # its stderr read to the end: a result it printed before exiting is queued
                if self._results.empty():
                    raise PsqlGone() from None
                continue
            return catalog.from_parts(json.loads(found), schema)

    def commit(self) -> None:
        self.write(b"COMMIT;\n")
        try:
            self.psql.stdin.close()
        except (BrokenPipeError, OSError) as exc:
            raise PsqlGone() from exc
        if self.psql.wait() != 0:
            raise PsqlGone()
        self.finished = True

    def abort(self) -> None:
        """No COMMIT ever reaches the server: psql is killed and its session terminated, and we wait until
        the server has let it go, so the target is back as it was when this returns."""
        if self.finished:
            return
        self.finished = True
        self.psql.kill()
        try:
            with self.db.connect(suffix=":abort") as admin:
                for _ in range(300):
                    row = admin.execute(
                        "SELECT count(*), count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = %s AND pid <> pg_backend_pid()",
                        (self.application_name,),
                    ).fetchone()
                    if not row or row[0] == 0:
                        return
                    time.sleep(0.05)
        except Exception as exc:  # the server ends the session by itself in any case
            bus.warning("restore_abort", f"could not confirm the end of the restore session: {exc}")


def lock_tables_sql(lock_timeout: str) -> str:
    """Every table the restore may replace, locked first and in one go, each wait bounded by lock_timeout:
    behind an application's open transaction the restore gives up (and retries later) instead of waiting
    without limit while it holds ACCESS EXCLUSIVE on the tables it already dropped. Once they are all held,
    nothing later waits (pg_restore's own `SET lock_timeout = 0` comes too late to matter)."""
    return f"""SET LOCAL lock_timeout = '{lock_timeout}';
DO $mandala_lock$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT format('%I.%I', n.nspname, c.relname) AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY c.oid
    LOOP
        EXECUTE 'LOCK TABLE ' || item.name || ' IN ACCESS EXCLUSIVE MODE';
    END LOOP;
END
$mandala_lock$;
"""


def clear_schema_sql(schema: str) -> str:
    """A DO block that drops every table, view, sequence, function and type of the schema (not the schema
    itself, whose owner and grants stay): a full restore replaces what is there whatever history built it,
    and, run inside the restore's transaction, it is undone with everything else if the restore fails.
    Objects that belong to an extension are left to it."""
    literal = schema.replace("'", "''")
    not_extension = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
    return f"""DO $mandala_clear$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                      n.nspname, c.relname) AS stmt
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '{literal}' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
          AND {not_extension.format(oid="c.oid")}
        ORDER BY c.relkind DESC
    LOOP
        EXECUTE item.stmt;
    END LOOP;
    FOR item IN
        SELECT format('DROP %s IF EXISTS %I.%I(%s) CASCADE',
                      CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                      n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS stmt
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = '{literal}' AND {not_extension.format(oid="p.oid")}
    LOOP
        EXECUTE item.stmt;
    END LOOP;
    FOR item IN
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                      n.nspname, t.typname) AS stmt
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = '{literal}' AND t.typtype IN ('e', 'd', 'r', 'm', 'c')
          AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
          AND {not_extension.format(oid="t.oid")}
    LOOP
        EXECUTE item.stmt;
    END LOOP;
END
$mandala_clear$;
"""


def check_sql(expected_rows: dict[str, int], schema: str, revision: str | None) -> str:
    """A DO block that raises (and so rolls everything back) when a table's rows or the revision differ
    from what the manifest promises."""
    expected = json.dumps(expected_rows).replace("'", "''")
    literal = schema.replace("'", "''")
    revision_check = (
        revision_check_sql(literal, revision.replace("'", "''"), CHECK_MARKER) if revision else ""
    )
    return f"""DO $mandala_check$
DECLARE
    item record;
    found bigint;
    revision text;
BEGIN
    FOR item IN SELECT key, value::bigint AS want FROM jsonb_each_text('{expected}'::jsonb) LOOP
        EXECUTE format('SELECT count(*) FROM %I.%I', '{literal}', item.key) INTO found;
        IF found <> item.want THEN
            RAISE EXCEPTION '{CHECK_MARKER} % has % rows after the restore, the manifest says %',
                item.key, found, item.want;
        END IF;
    END LOOP;{revision_check}
END
$mandala_check$"""
