"""core/catalog: snapshots from PostgreSQL's own deparsers. The same objects give the same snapshot (and
fingerprint) whatever schema they live in and however they were written; the tool's bookkeeping is left
out; `compare` says what differs in words a reviewer can act on; reading the models leaves nothing behind."""

from __future__ import annotations

from typing import Any

import psycopg

from mandala_db.core.catalog import (
    Column,
    Snapshot,
    Table,
    compare,
    is_internal,
    models_snapshot,
    row_estimates,
    take,
)

OBJECTS = """
CREATE TYPE {s}.mood AS ENUM ('ok', 'great');
CREATE TABLE {s}.goals (id int PRIMARY KEY, title varchar(100) NOT NULL DEFAULT 'x', mood {s}.mood);
CREATE TABLE {s}.tasks (id int PRIMARY KEY, goal_id int REFERENCES {s}.goals (id), minutes int CHECK (minutes > 0));
CREATE INDEX tasks_goal ON {s}.tasks (goal_id) WHERE minutes IS NOT NULL;
CREATE TABLE {s}.mandala_seed_loads (dataset text);
CREATE TABLE {s}.alembic_version (version_num varchar(32));
"""


def build(conn: psycopg.Connection[Any], schema: str, sql: str = OBJECTS) -> Snapshot:
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(sql.format(s=schema))
    return take(conn, schema)


def test_the_same_objects_in_two_schemas_have_one_fingerprint(conn: psycopg.Connection[Any]) -> None:
    a, b = build(conn, "one"), build(conn, "two")
    assert a.to_dict() == b.to_dict() and a.fingerprint == b.fingerprint
    fk = a.tables["tasks"].constraints["tasks_goal_id_fkey"]
    assert fk == ("f", "FOREIGN KEY (goal_id) REFERENCES goals(id)")  # the schema's own prefix removed
    assert a.tables["tasks"].indexes["tasks_goal"].startswith("CREATE INDEX tasks_goal ON tasks USING btree")
    assert a.enums == {"mood": ["ok", "great"]} and a.enum_columns("mood") == [("goals", "mood")]


def test_the_tools_bookkeeping_is_not_part_of_the_schema(conn: psycopg.Connection[Any]) -> None:
    snap = build(conn, "one")
    assert set(snap.tables) == {"goals", "tasks"}
    assert (
        is_internal("alembic_version") and is_internal("mandala_migrations") and not is_internal("mandalas")
    )


def test_a_change_anywhere_changes_the_fingerprint(conn: psycopg.Connection[Any]) -> None:
    before = build(conn, "one")
    conn.execute("ALTER TABLE one.goals ALTER COLUMN title SET DEFAULT 'y'")
    assert take(conn, "one").fingerprint != before.fingerprint


def test_compare_says_what_differs_and_which_side_has_it() -> None:
    models = Snapshot("models", tables={"tasks": Table(columns={"minutes": Column("integer", False, "30")})},
                      enums={"mood": ["ok", "great"]})  # fmt: skip
    live = Snapshot("public", tables={"tasks": Table(columns={"minutes": Column("smallint", True, None), "x": Column("text", True, None)}),
                                      "extra": Table()}, enums={"mood": ["ok"]}, sequences=["s"])  # fmt: skip
    said = [str(d) for d in compare(models, live)]
    assert said == [
        "table extra: in the database but not in the models",
        "column tasks.minutes: type is smallint in the database, integer in the models; nullable in the database, "
        "NOT NULL in the models; default is none in the database, 30 in the models",
        "column tasks.x: in the database but not in the models",
        "enum mood: labels are ok in the database, ok, great in the models",
        "sequence s: in the database but not in the models",
    ]
    assert compare(models, models) == []


def test_the_models_are_read_in_a_scratch_schema_that_never_stays(conn: psycopg.Connection[Any]) -> None:
    snap = models_snapshot(conn)
    assert snap.schema == "models" and {"users", "goals", "tasks"} <= set(snap.tables)
    left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'mandala_models_%'").fetchone()
    assert left == (0,)


def test_row_estimates_cover_the_application_tables(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "CREATE TABLE goals (id int); INSERT INTO goals SELECT generate_series(1, 500); ANALYZE goals"
    )
    conn.execute("CREATE TABLE mandala_seed_loads (dataset text)")
    estimates = row_estimates(conn)
    assert set(estimates) == {"goals"} and estimates["goals"][0] == 500 and estimates["goals"][1] > 0
