"""migrations/archive: SQL that keeps a downgrade from losing data. Rows and columns a downgrade removes are
parked in the schema's own archive (enum values as text), the upgrade that recreates them puts them back
(updated_at untouched) and empties the archive; nothing parked is a no-op; a second park over an archive
never restored fails rather than overwriting it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mandala_db.migrations.archive import park_columns, park_rows, restore_columns, restore_rows

SETUP = """
CREATE TYPE mood AS ENUM ('ok', 'great');
CREATE TABLE notes (id int PRIMARY KEY, body text, mood mood, moods mood[], updated_at timestamptz DEFAULT now());
CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION touch();
INSERT INTO notes VALUES (1, 'a', 'ok', '{ok,great}', '2024-01-01'), (2, 'b', 'great', NULL, '2024-01-02');
"""


def rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, body, mood::text, moods::text, updated_at::date::text FROM notes ORDER BY id"
    ).fetchall()


def test_rows_parked_with_enums_as_text_come_back_and_leave_no_archive(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    before = rows(conn)
    conn.execute(park_rows("notes"))
    types = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'mandala_archive_public' AND table_name = 'notes' ORDER BY ordinal_position"
    ).fetchall()
    assert ("mood", "text") in types and ("moods", "text") in types  # an enum array too, as its literal
    conn.execute("DROP TABLE notes; DROP TYPE mood")  # the downgrade may rewrite the type itself
    conn.execute("CREATE TYPE mood AS ENUM ('ok', 'great')")
    conn.execute(
        "CREATE TABLE notes (id int PRIMARY KEY, body text, mood mood, moods mood[], updated_at timestamptz)"
    )
    conn.execute(restore_rows("notes"))
    assert rows(conn) == before
    assert conn.execute("SELECT to_regclass('mandala_archive_public.notes')").fetchone() == (None,)


def test_columns_parked_come_back_on_their_rows_without_touching_updated_at(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute(SETUP)
    before = rows(conn)
    conn.execute(park_columns("notes", "body", "mood"))
    conn.execute("ALTER TABLE notes DROP COLUMN body, DROP COLUMN mood")
    conn.execute("ALTER TABLE notes ADD COLUMN body text, ADD COLUMN mood mood")
    conn.execute(restore_columns("notes", "body", "mood"))
    assert rows(conn) == before  # updated_at as it was: restoring is not an edit
    assert conn.execute("SELECT to_regclass('mandala_archive_public.notes__body__mood')").fetchone() == (
        None,
    )


def test_nothing_parked_is_a_no_op(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    conn.execute(restore_rows("notes"))
    conn.execute(restore_columns("notes", "body"))
    assert len(rows(conn)) == 2


def test_an_archive_never_restored_is_not_overwritten(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)
    conn.execute(park_rows("notes"))
    with pytest.raises(psycopg.errors.DuplicateTable):
        conn.execute(park_rows("notes"))


def test_each_schema_has_its_own_archive(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE SCHEMA app; SET search_path TO app")
    conn.execute(SETUP)
    conn.execute(park_rows("notes"))
    assert conn.execute("SELECT to_regclass('mandala_archive_app.notes')").fetchone() != (None,)
    assert conn.execute("SELECT to_regnamespace('mandala_archive_public')").fetchone() == (None,)
