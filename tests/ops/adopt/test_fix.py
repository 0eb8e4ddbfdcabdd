"""ops/adopt/fix: `--fix WHAT=ACTION` says what the adoption does with the rows our constraints reject:
clamp a number into its CHECK's range, set a dangling reference to NULL, or move the row, whole, into the
archive. A fix that cannot apply is refused before anything is locked, a row other rows refer to is never
archived, and every fix is counted; with none, the adoption still refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import connect_to, run_cli
from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput, CheckFailed
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import dry_run, fix
from mandala_db.ops.adopt.run import adopt
from mandala_db.ops.adopt.survey import Blocker
from ops.adopt.prismakit import build, clean_prisma_db, populate_2025_11, prisma_db
from ops.migrate.migratekit import ok

__all__ = ["clean_prisma_db", "prisma_db"]


def test_a_spec_names_kinds_or_rules_and_the_most_specific_wins() -> None:
    fixes = fix.parse(["check=clamp,reference=archive", "ck_goals_progress_range=archive"])
    assert fixes == {"check": "clamp", "reference": "archive", "ck_goals_progress_range": "archive"}
    progress = Blocker(
        "goals", "ck_goals_progress_range CHECK (...)", 1, ["x"], "check", "ck_goals_progress_range"
    )
    rating = Blocker(
        "task_reflections", "ck_task_reflections_rating_range CHECK (...)", 1, ["x"], "check", "ck_r"
    )
    assert fix.action_for(progress, fixes) == "archive" and fix.action_for(rating, fixes) == "clamp"
    assert fix.action_for(rating, {"all": "archive"}) == "archive" and fix.action_for(rating, {}) is None
    for bad in ("check", "check=delete", "=clamp", "check=clamp,,"):
        with pytest.raises(BadInput, match="expected WHAT=ACTION"):
            fix.parse([bad])


@pytest.mark.parametrize(
    ("definition", "bounds"),
    [
        ("CHECK (((progress >= 0) AND (progress <= 100)))", (0, 100)),
        ('CHECK ((("position" >= 0) AND ("position" <= 7)))', (0, 7)),
        ("CHECK ((estimated_minutes > 0))", (1, None)),
        ("CHECK ((rating < 6))", (None, 5)),
        ("CHECK (((entity_type)::text = ANY (ARRAY['goal'::text])))", None),
        ("CHECK (((progress >= 0) OR (progress <= 100)))", None),
    ],
)
def test_clamp_knows_a_range_over_one_column_and_nothing_else(definition: str, bounds: Any) -> None:
    b = Blocker("t", f"ck {definition}", 1, [], "check", "ck", "true", "c")
    assert fix._bounds(b) == bounds


def test_a_fix_that_cannot_apply_is_named_in_the_dry_run(prisma_db: DatabaseURL) -> None:
    db = Database(prisma_db)
    assert len(dry_run(db).unfixed) == 3  # no --fix: every kind of blocker is left
    report = dry_run(db, fixes={"check": "clamp", "reference": "null"})
    assert report.unfixed == [
        "task_notes fk_task_notes_user_id_users: our column is NOT NULL, so the reference cannot be set to NULL; "
        "use archive"
    ]
    assert dry_run(db, fixes={"reference": "clamp", "check": "clamp"}).unfixed == [
        "task_notes fk_task_notes_user_id_users: clamp does not apply to a reference rule; use archive"
    ]
    assert dry_run(db, fixes={"check": "clamp", "reference": "archive"}).problems == 0


def snapshot(url: DatabaseURL) -> tuple[Any, ...]:
    with connect_to(url) as conn:
        return (catalog.take(conn).fingerprint,
                conn.execute("SELECT id, progress FROM goals ORDER BY id").fetchall(),
                conn.execute('SELECT id, "userId" FROM task_notes ORDER BY id').fetchall())  # fmt: skip


def test_clamp_and_archive_make_the_rows_fit_and_are_counted(prisma_db: DatabaseURL, tmp_path: Path) -> None:
    with connect_to(prisma_db) as conn:
        notes = conn.execute("SELECT count(*) FROM task_notes").fetchone()
        dangling = conn.execute('SELECT id FROM task_notes n WHERE NOT EXISTS '
                                '(SELECT 1 FROM users u WHERE u.id = n."userId")').fetchone()  # fmt: skip
    assert notes and dangling
    done = adopt(Database(prisma_db), tmp_path, fixes=fix.parse(["check=clamp,reference=archive"]))
    assert sorted((f.table, f.action, f.rows) for f in done.fixed) == [
        ("goals", "clamp", 1), ("task_notes", "archive", 1), ("tasks", "clamp", 2)]  # fmt: skip
    with connect_to(prisma_db) as conn:
        assert conn.execute("SELECT max(progress) FROM goals").fetchone() == (100,)
        assert conn.execute("SELECT min(estimated_minutes) FROM tasks").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM task_notes").fetchone() == (notes[0] - 1,)
        kept = conn.execute(
            "SELECT table_name, rule, row->>'id' FROM mandala_archive_public.adopt_rejected"
        ).fetchall()
        assert [(t, r.split()[0], i) for t, r, i in kept] == [
            ("task_notes", "fk_task_notes_user_id_users", str(dangling[0]))
        ]
        # The constraints are validated, not just added: every row fits them now.
        assert conn.execute("SELECT count(*) FROM pg_constraint WHERE NOT convalidated AND connamespace = "
                            "'public'::regnamespace").fetchone() == (0,)  # fmt: skip
    ok(run_cli("migrate", "validate", url=prisma_db))
    # The archived rows are the adoption's record, not rows a downgrade parked for the next upgrade.
    assert "Rows kept" not in ok(run_cli("migrate", "status", url=prisma_db)).stdout


def test_refused_fixes_change_nothing(prisma_db: DatabaseURL, tmp_path: Path) -> None:
    before = snapshot(prisma_db)
    with pytest.raises(CheckFailed, match="1 kind\\(s\\) of rows our constraints reject and no --fix covers"):
        adopt(Database(prisma_db), tmp_path, fixes={"check": "clamp"})
    assert snapshot(prisma_db) == before and not list(tmp_path.iterdir())
    # Archiving the goal would take its sub-goals with it (Prisma's cascade): refused inside the transaction,
    # after the backup, and rolled back whole (the clamps of the tasks too).
    with pytest.raises(CheckFailed, match="8 row\\(s\\) of sub_goals refer to the rows it would move"):
        adopt(Database(prisma_db), tmp_path, fixes={"check": "clamp", "ck_goals_progress_range": "archive",
                                                    "reference": "archive"})  # fmt: skip
    assert snapshot(prisma_db) == before
    with connect_to(prisma_db) as conn:
        assert conn.execute('SELECT count(*) FROM tasks WHERE "estimatedMinutes" = 0').fetchone() == (2,)
        assert conn.execute("SELECT to_regnamespace('mandala_archive_public')").fetchone() == (None,)


def test_archive_keeps_the_first_row_of_a_duplicated_key(
    clean_prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    with connect_to(clean_prisma_db) as conn:
        # The same address in other letters (ours is unique on lower(email)), and one habit reminded twice
        # in one ISO week (ours: one row per task and week).
        conn.execute("INSERT INTO users (id, email, name, \"updatedAt\") VALUES "
                     "('ffffffff-0000-4000-8000-000000000001', 'USER1@example.com', 'Twin', now())")  # fmt: skip
        conn.execute(
            'INSERT INTO habit_task_reminder_tracking (id, "taskId", "lastRemindedAt", "weekNumber", "updatedAt") '
            "SELECT ('00000000-0000-4000-8000-00000000000' || n)::uuid, (SELECT min(id::text)::uuid FROM tasks), "
            "'2026-03-04 09:00+00'::timestamptz + n * interval '1 hour', 10, now() FROM generate_series(1, 2) n"
        )
    report = dry_run(Database(clean_prisma_db))
    assert sorted((b.kind, b.table) for b in report.survey.blockers) == [
        ("unique", "habit_task_reminder_tracking"), ("unique", "users")]  # fmt: skip
    done = adopt(Database(clean_prisma_db), tmp_path, fixes={"unique": "archive"})
    assert sorted((f.table, f.rows) for f in done.fixed) == [
        ("habit_task_reminder_tracking", 1),
        ("users", 1),
    ]
    with connect_to(clean_prisma_db) as conn:
        kept = conn.execute("SELECT id::text FROM habit_task_reminder_tracking").fetchall()
        assert kept == [("00000000-0000-4000-8000-000000000001",)]  # the first by key stays
        moved = conn.execute("SELECT table_name, row->>'email' FROM mandala_archive_public.adopt_rejected "
                             "ORDER BY 1").fetchall()  # fmt: skip
        assert moved == [("habit_task_reminder_tracking", None), ("users", "USER1@example.com")]


def test_a_value_too_wide_for_our_smallint_is_clamped_on_the_way_forward(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        populate_2025_11(conn, planted=False)
        conn.execute(
            'UPDATE tasks SET "estimatedTime" = 40000 WHERE id = (SELECT min(id::text)::uuid FROM tasks)'
        )
    done = adopt(Database(db_url), tmp_path, fixes={"check": "clamp"})
    assert [(f.table, f.rule.split()[0], f.rows) for f in done.fixed] == [
        ("tasks", "estimated_minutes_fits_smallint", 1)
    ]
    with connect_to(db_url) as conn:
        assert conn.execute("SELECT max(estimated_minutes) FROM tasks").fetchone() == (32767,)
