"""ops/seed: the data sets loaded through `mandala-db seed` on a freshly deployed database: loaded twice as
once, merged back after a loss, all or nothing, and removed without touching anyone else's rows."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from conftest import Result
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from revision_data import table_checksums


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {table: n for table, (n, _) in table_checksums(conn).items()}


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


@pytest.mark.parametrize(
    ("name", "args"), [("development", []), ("test", []), ("demo", []), ("performance", ["--scale", "0.01"])]
)
def test_each_data_set_loads_twice_as_once_and_passes_the_data_check(
    name: str, args: list[str], deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    first = json.loads(ok(cli("--json", "seed", name, *args)).stdout)
    after_first = counts(conn)
    assert first["mode"] == "copy" and first["total"] == sum(after_first.values())
    second = json.loads(ok(cli("--json", "seed", name, *args)).stdout)
    assert second["mode"] == "merge" and second["total"] == 0
    assert counts(conn) == after_first
    check = cli("--json", "data", "check")
    assert check.code == 0, check.output
    assert json.loads(check.stdout) == {"ok": True, "findings": []}


def test_the_performance_set_has_rows_in_every_table_and_scales(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    ok(cli("seed", "performance", "--scale", "0.02"))
    n = counts(conn)
    assert all(v > 0 for v in n.values()), n
    assert n["users"] == 20 and n["goals"] == 200 and n["sub_goals"] == 1600 and n["actions"] == 12800
    assert sum(n.values()) == 18800  # 940,000 at scale 1


def test_the_test_set_uses_every_enum_label_and_the_extreme_lengths(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    ok(cli("seed", "test"))
    snap = catalog.take(conn)
    for enum, labels in snap.enums.items():
        used: set[str] = set()
        for table, column in snap.enum_columns(enum):
            used |= {
                r[0] for r in conn.execute(f"SELECT DISTINCT {column}::text FROM {table}").fetchall() if r[0]
            }
        assert used == set(labels), f"{enum}: unused {set(labels) - used}"
    assert all(v > 0 for v in counts(conn).values())
    lengths = {
        "goals.title": (1, 200),
        "tasks.title": (1, 255),
        "users.name": (1, 100),
        "users.email": (5, 255),
        "sub_goals.title": (1, 200),
        "actions.title": (8, 200),
        "saved_views.name": (255, 255),
    }
    for column, expected in lengths.items():
        table, col = column.split(".")
        row = conn.execute(f"SELECT min(length({col})), max(length({col})) FROM {table}").fetchone()
        assert row == expected, column
    assert conn.execute("SELECT min(progress), max(progress) FROM goals").fetchone() == (0, 100)
    assert conn.execute("SELECT min(estimated_minutes), max(estimated_minutes) FROM tasks").fetchone() == (
        1,
        32767,
    )


def test_remove_takes_only_the_data_sets_own_rows(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    ok(cli("seed", "development"))
    ok(cli("seed", "demo"))
    mine = conn.execute(
        "INSERT INTO users (email, name) VALUES ('me@example.com', 'Me') RETURNING id"
    ).fetchone()
    assert mine is not None
    conn.execute("INSERT INTO goals (user_id, title) VALUES (%s, 'Mine')", (mine[0],))
    with_demo = counts(conn)
    ok(cli("--yes", "seed", "development", "--remove"))
    assert conn.execute("SELECT name FROM users WHERE id = %s", (mine[0],)).fetchone() == ("Me",)
    assert conn.execute("SELECT count(*) FROM goals WHERE user_id = %s", (mine[0],)).fetchone() == (1,)
    assert conn.execute(
        "SELECT count(*) FROM users WHERE email LIKE '%%@example.com' AND name = '山田 太郎'"
    ).fetchone() == (0,)
    after = counts(conn)
    assert after["users"] == with_demo["users"] - 3 and after["actions"] == with_demo["actions"] - 64
    ok(cli("--yes", "seed", "demo", "--remove"))
    assert counts(conn)["users"] == 1


def test_seed_is_refused_in_production_and_before_migrations(db_url: DatabaseURL, cli: Any) -> None:
    refused = cli("--env", "production", "seed", "demo")
    assert refused.code == 3 and "refused in production" in refused.stderr
    early = cli("seed", "demo")
    assert early.code == 1 and "run `mandala-db migrate deploy` first" in early.stderr
    assert cli("seed", "nonsense").code == 2


def test_a_second_load_puts_back_exactly_the_rows_that_went_missing(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    def ids() -> dict[str, list[str]]:
        tables = ("tasks", "task_notes", "task_reminders", "goals", "users")
        return {t: [str(r[0]) for r in conn.execute(f"SELECT id FROM {t} ORDER BY id")] for t in tables}

    ok(cli("seed", "development"))
    full = ids()
    conn.execute(
        "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT 7)"
    )  # and their reminders
    conn.execute("DELETE FROM task_notes")
    assert ids() != full
    merged = json.loads(ok(cli("--json", "seed", "development")).stdout)
    assert merged["mode"] == "merge" and merged["total"] >= 7
    assert ids() == full  # the same rows under the same ids, nothing twice
    assert cli("data", "check").code == 0


def test_a_load_that_fails_half_way_keeps_nothing(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    # A user of our own already has an e-mail address the demo set uses: the set's COPY into users fails
    # after other rows of it were written in the same transaction.
    conn.execute("INSERT INTO users (email, name) VALUES ('shohei@example.jp', 'Someone else')")
    before = table_checksums(conn)
    failed = cli("seed", "demo")
    assert failed.code == 1, failed.output
    assert "shohei@example.jp" in failed.stderr or "users" in failed.stderr
    assert table_checksums(conn) == before  # not one row of the set stayed


def test_remove_without_scale_uses_the_scale_recorded_at_load(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    loaded = json.loads(ok(cli("--json", "seed", "performance", "--scale", "0.01")).stdout)
    removed = json.loads(ok(cli("--json", "--yes", "seed", "performance", "--remove")).stdout)
    assert removed["mode"] == "remove" and removed["total"] == loaded["total"]  # not the 940,000 of scale 1
    assert sum(counts(conn).values()) == 0
