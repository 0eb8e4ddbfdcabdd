"""schema/base: what the models are built from. Names are deterministic (drift detection and exact
downgrades depend on them); a varchar `IN` check is written in the form a dump and restore keep as it is;
every table with updated_at gets the one trigger that keeps it current, raw SQL included."""

from __future__ import annotations

from typing import Any

import psycopg

from mandala_db.schema.base import (
    NAMING_CONVENTION,
    SET_UPDATED_AT_FUNCTION,
    label,
    metadata,
    one_of,
    updated_at_trigger_sql,
)
from mandala_db.schema.enums import TaskStatus
from mandala_db.schema.models import metadata as models_metadata


def test_the_models_share_the_one_metadata_and_its_naming_convention() -> None:
    assert models_metadata is metadata and metadata.naming_convention["pk"] == NAMING_CONVENTION["pk"]
    tasks = metadata.tables["tasks"]
    assert tasks.primary_key.name == "pk_tasks"
    assert {fk.name for fk in tasks.foreign_key_constraints} >= {"fk_tasks_action_id_actions"}


def test_an_enum_default_is_its_label_as_sql() -> None:
    assert str(label(TaskStatus.NOT_STARTED)) == "'NOT_STARTED'"


def test_an_in_check_is_a_fixed_point_of_postgresqls_deparser(conn: psycopg.Connection[Any]) -> None:
    """What pg_dump writes back is the deparsed text: created from it, the check must deparse the same."""

    def deparsed(table: str, check_sql: str) -> str:
        conn.execute(f"CREATE TABLE {table} (kind varchar(10), CONSTRAINT {table}_ck CHECK ({check_sql}))")
        row = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (f"{table}_ck",)
        )
        return str(row.fetchone()[0]).removeprefix("CHECK ")  # type: ignore[index]

    check = one_of("kind", "a", "b")
    first = deparsed("t1", str(check.sqltext))
    assert deparsed("t2", first) == first and check.name == "kind_allowed"
    plain = deparsed("t3", "kind IN ('a', 'b')")  # the form one_of avoids: a restore rewrites it again
    assert deparsed("t4", plain) != plain


def test_the_updated_at_trigger_keeps_the_column_current_for_raw_sql(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE notes (id int, updated_at timestamptz DEFAULT '2000-01-01')")
    conn.execute(SET_UPDATED_AT_FUNCTION)
    conn.execute(updated_at_trigger_sql("notes"))
    conn.execute("INSERT INTO notes (id) VALUES (1)")
    conn.execute("UPDATE notes SET id = 2")
    row = conn.execute("SELECT updated_at > '2001-01-01' FROM notes").fetchone()
    assert row == (True,)


def test_every_table_with_updated_at_has_the_trigger_in_the_ddl() -> None:
    from mandala_db.schema.ddl import models_ddl

    ddl = "\n".join(models_ddl())
    for table in metadata.sorted_tables:
        assert (f"trg_{table.name}_set_updated_at" in ddl) is ("updated_at" in table.c), table.name
