"""ops/migrate/classify.py, held to the server: the lock the plan says each statement takes is the lock
PostgreSQL takes: every statement below runs against a real server and its locks are read from pg_locks. A
statement that runs in a transaction is read in its own transaction before the rollback; one that cannot
(CREATE INDEX CONCURRENTLY, VACUUM, ...) is made to queue behind a session holding SHARE UPDATE EXCLUSIVE,
and the mode it waits for is read while it waits. The plan's side comes from the same walk `migrate plan`
and the lint rules use."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.analysis import LOCK_ORDER, analyze, strongest
from mandala_db.ops.migrate.effects import Walk
from mandala_db.ops.migrate.plan import TableStats

SCHEMA = """
CREATE TABLE r (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, a int, b text, c varchar(10), r_id int REFERENCES r (id));
CREATE INDEX ix ON t (a);
CREATE UNIQUE INDEX uix ON t (c);
CREATE TABLE leaf (id int PRIMARY KEY, t_id int CONSTRAINT fk_leaf_t REFERENCES t (id));
INSERT INTO r SELECT g FROM generate_series(1, 10) g;
INSERT INTO t SELECT g, g, 'x', 'y' || g, 1 FROM generate_series(1, 10) g;
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
CREATE UNIQUE INDEX mvix ON mv (id);
CREATE TABLE p (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE pc PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE TABLE pd (id int, k int);
ALTER TABLE t ADD CONSTRAINT nv CHECK (a > 0) NOT VALID;
ALTER TABLE t ADD CONSTRAINT fk_nv FOREIGN KEY (r_id) REFERENCES r (id) NOT VALID;
CREATE TYPE e AS ENUM ('x');
ANALYZE;
"""

IN_TRANSACTION = [
    "ALTER TABLE t ADD COLUMN z int",
    "ALTER TABLE t ADD COLUMN z int DEFAULT 0 NOT NULL",
    "ALTER TABLE t ADD COLUMN q int REFERENCES r (id)",
    "ALTER TABLE t DROP COLUMN b",
    "ALTER TABLE t DROP COLUMN r_id",
    "ALTER TABLE t ALTER COLUMN c TYPE text",
    "ALTER TABLE t ALTER COLUMN a TYPE bigint",
    "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
    "ALTER TABLE t ALTER COLUMN a DROP NOT NULL",
    "ALTER TABLE t ALTER COLUMN a SET DEFAULT 3",
    "ALTER TABLE t ALTER COLUMN a SET STATISTICS 100",
    "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 10)",
    "ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL",
    "ALTER TABLE t ADD CONSTRAINT fk2 FOREIGN KEY (r_id) REFERENCES r (id)",
    "ALTER TABLE t ADD CONSTRAINT fk3 FOREIGN KEY (r_id) REFERENCES r (id) NOT VALID",
    "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)",
    "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID",
    "ALTER TABLE t VALIDATE CONSTRAINT nv",
    "ALTER TABLE t ADD CONSTRAINT u2 UNIQUE USING INDEX uix",
    "ALTER TABLE t ADD CONSTRAINT u3 UNIQUE (id, c)",
    "ALTER TABLE t ADD CONSTRAINT ex EXCLUDE USING btree (a WITH =)",
    "ALTER TABLE t DROP CONSTRAINT nv",
    "ALTER TABLE t DROP CONSTRAINT fk_nv",
    "ALTER TABLE t SET (fillfactor = 70)",
    "ALTER TABLE t CLUSTER ON ix",
    "ALTER TABLE t DISABLE TRIGGER ALL",
    "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE t REPLICA IDENTITY FULL",
    "ALTER TABLE pd SET UNLOGGED",
    "ALTER TABLE t SET TABLESPACE pg_default",
    "ALTER TABLE t OWNER TO CURRENT_USER",
    "ALTER TABLE p ATTACH PARTITION pd FOR VALUES FROM (10) TO (20)",
    "ALTER TABLE p DETACH PARTITION pc",
    "ALTER TABLE t RENAME COLUMN b TO bb",
    "ALTER TABLE t RENAME TO tt",
    "ALTER INDEX ix RENAME TO ix2",
    "ALTER INDEX ix SET (fillfactor = 50)",
    "CREATE INDEX ix3 ON t (b)",
    "CREATE UNIQUE INDEX ix4 ON t (id, b)",
    "DROP INDEX ix",
    "REINDEX INDEX ix",
    "REINDEX TABLE t",
    "CLUSTER t USING ix",
    "ANALYZE t",
    "TRUNCATE leaf",
    "TRUNCATE t CASCADE",
    "LOCK TABLE t IN SHARE MODE",
    "LOCK TABLE t IN ROW EXCLUSIVE MODE",
    "LOCK TABLE t",
    "REFRESH MATERIALIZED VIEW mv",
    "UPDATE t SET a = a + 1",
    "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM r)",
    "DELETE FROM leaf WHERE id = 1",
    "INSERT INTO r SELECT id + 100 FROM r",
    "CREATE TABLE n (id int REFERENCES r (id))",
    "CREATE TABLE n2 AS SELECT * FROM r",
    "CREATE VIEW v AS SELECT * FROM t",
    "CREATE TRIGGER tg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    "CREATE POLICY pol ON t USING (true)",
    "COMMENT ON TABLE t IS 'x'",
    "COMMENT ON COLUMN t.a IS 'x'",
    "DROP TABLE leaf",
    "DROP TABLE t CASCADE",
    "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (20) TO (30)",
    "ALTER TABLE t INHERIT r",
    "ALTER TYPE e ADD VALUE 'y'",
    "ALTER TABLE t ADD CONSTRAINT fk4 FOREIGN KEY (r_id) REFERENCES r (id) NOT VALID; "
    "ALTER TABLE t VALIDATE CONSTRAINT fk4",
]

OUTSIDE_TRANSACTION = [
    "CREATE INDEX CONCURRENTLY ix5 ON t (b)",
    "DROP INDEX CONCURRENTLY ix",
    "REINDEX INDEX CONCURRENTLY ix",
    "REINDEX TABLE CONCURRENTLY t",
    "VACUUM t",
    "VACUUM FULL t",
    "ALTER TABLE p DETACH PARTITION pc CONCURRENTLY",
]

_MODE = {m.replace(" ", "").lower() + "lock": m for m in LOCK_ORDER}


@pytest.fixture
def probe(db_url: DatabaseURL) -> DatabaseURL:
    with connect_to(db_url) as c:
        c.execute(SCHEMA)
    return db_url


def planned(conn: psycopg.Connection[Any], sql: str) -> dict[str, str]:
    """The strongest lock on each table over the statements, as the plan shows them."""
    stats = TableStats(conn, "public")
    walk = Walk(stats.model(catalog.take(conn, "public")))
    locks: dict[str, str] = {}
    for st in analyze(sql):
        walk.before(st)
        for table, mode in st.locks.items():
            locks[table] = strongest(locks.get(table), mode)
        walk.after(st)
    return locks


def _relations(conn: psycopg.Connection[Any]) -> dict[int, str]:
    """Tables, partitions and materialized views by oid, read before the statement (a dropped one keeps
    its name)."""
    rows = conn.execute(
        "SELECT oid::int, relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'm')"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _strongest(rows: list[tuple[int, str]], names: dict[int, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for oid, mode in rows:
        if oid in names:
            out[names[oid]] = strongest(out.get(names[oid]), _MODE[mode.lower()])
    return out


def taken_in_transaction(url: DatabaseURL, sql: str) -> dict[str, str]:
    with connect_to(url) as conn:
        conn.autocommit = False
        names = _relations(conn)
        conn.execute(sql)
        rows = conn.execute(
            "SELECT relation::int, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'"
        ).fetchall()
        conn.rollback()
    return _strongest(rows, names)


def waited_for(url: DatabaseURL, sql: str) -> dict[str, str]:
    """The lock a statement that cannot run in a transaction queues for behind SHARE UPDATE EXCLUSIVE."""
    with connect_to(url) as blocker:
        blocker.autocommit = False
        names = _relations(blocker)
        tables = [n for n in names.values() if n != "mv"]
        blocker.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE UPDATE EXCLUSIVE MODE")
        worker = connect_to(url)
        pid = worker.info.backend_pid
        failure: list[BaseException] = []

        def run() -> None:
            try:
                worker.execute(sql)
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        with connect_to(url) as watcher:
            deadline = time.monotonic() + 60
            rows: list[tuple[int, str]] = []
            while time.monotonic() < deadline and thread.is_alive():
                rows = watcher.execute(
                    "SELECT relation::int, mode FROM pg_locks WHERE pid = %s AND locktype = 'relation' AND NOT granted",
                    (pid,),
                ).fetchall()
                if rows:
                    break
                time.sleep(0.01)
        blocker.rollback()
        thread.join()
        worker.close()
    assert not failure, failure
    return _strongest(rows, names)


@pytest.mark.parametrize("sql", IN_TRANSACTION)
def test_the_plan_names_the_lock_postgresql_takes(sql: str, probe: DatabaseURL) -> None:
    with connect_to(probe) as conn:
        plan = planned(conn, sql)
    assert plan == taken_in_transaction(probe, sql)


@pytest.mark.parametrize("sql", OUTSIDE_TRANSACTION)
def test_the_plan_names_the_lock_a_statement_outside_a_transaction_waits_for(
    sql: str, probe: DatabaseURL
) -> None:
    with connect_to(probe) as conn:
        plan = planned(conn, sql)
        assert all(not st.transactional for st in analyze(sql))
    waited = waited_for(probe, sql)
    assert waited and all(plan.get(table) == mode for table, mode in waited.items()), (plan, waited)
