"""core/revision.py: the one owner of the version table. A database without it is at base; a stamp replaces
the one row in the caller's transaction; two rows are a failure with the way out; the check a restore's
psql session runs raises exactly when the restored revision is not the manifest's."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mandala_db.core.errors import OperationFailed
from mandala_db.core.revision import (
    VERSION_TABLE,
    current_revision,
    current_schema,
    revision_check_sql,
    stamp,
    version_table_exists,
)


def test_a_database_without_the_table_is_at_base_and_a_stamp_creates_it(
    conn: psycopg.Connection[Any],
) -> None:
    assert not version_table_exists(conn) and current_revision(conn) is None
    stamp(conn, "20250101000000_one")
    stamp(conn, "20250102000000_two")
    assert version_table_exists(conn) and current_revision(conn) == "20250102000000_two"
    stamp(conn, None)
    assert current_revision(conn) is None and version_table_exists(conn)


def test_a_stamp_belongs_to_the_callers_transaction(conn: psycopg.Connection[Any]) -> None:
    stamp(conn, "20250101000000_one")
    with pytest.raises(RuntimeError), conn.transaction():
        stamp(conn, "20250102000000_two")
        raise RuntimeError("the revision failed")
    assert current_revision(conn) == "20250101000000_one"


def test_two_rows_are_a_failure_that_says_how_to_mend_it(conn: psycopg.Connection[Any]) -> None:
    stamp(conn, "20250101000000_one")
    conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES ('20250102000000_two')")
    with pytest.raises(OperationFailed, match="holds 2 rows") as caught:
        current_revision(conn)
    assert "migrate resolve" in (caught.value.hint or "")


def test_the_current_schema_is_the_search_paths_first(conn: psycopg.Connection[Any]) -> None:
    assert current_schema(conn) == "public"
    conn.execute("CREATE SCHEMA app")
    conn.execute("SET search_path TO app")
    assert current_schema(conn) == "app"


def test_the_restore_check_raises_only_for_another_revision(conn: psycopg.Connection[Any]) -> None:
    stamp(conn, "20250101000000_one")

    def check(expected: str) -> None:
        body = revision_check_sql("public", expected, "MANDALA_CHECK")
        conn.execute(f"DO $$ DECLARE revision text; BEGIN {body} END $$")

    check("20250101000000_one")
    with pytest.raises(
        psycopg.errors.RaiseException, match="MANDALA_CHECK the restored revision is 20250101000000_one"
    ):
        check("20250102000000_two")
