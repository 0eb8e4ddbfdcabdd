"""cli/adopt: `adopt prisma --dry-run` prints what the adoption would meet and exits 5 while rows break our
constraints, 0 when none do; JSON with --json; the adoption itself asks first (refused without --yes where
nobody can answer) and says what it did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from ops.adopt.prismakit import build, clean_prisma_db, populate_2025_11, prisma_db

__all__ = ["clean_prisma_db", "prisma_db"]


def test_the_dry_run_names_each_blocker_and_exits_5(prisma_db: DatabaseURL) -> None:
    result = run_cli("adopt", "prisma", "--dry-run", url=prisma_db)
    assert result.code == 5, result.output
    assert "State of the history: latest" in result.stdout
    assert "tasks: 2 row(s) break ck_tasks_estimated_minutes_positive" in result.stdout
    assert "Nothing was changed." in result.stdout and "the adoption would refuse" in result.stderr
    data: dict[str, Any] = json.loads(run_cli("--json", "adopt", "prisma", "--dry-run", url=prisma_db).stdout)
    assert data["ok"] is False and {b["table"] for b in data["blockers"]} == {"goals", "tasks", "task_notes"}


def test_a_clean_database_passes_the_dry_run(clean_prisma_db: DatabaseURL) -> None:
    result = run_cli("adopt", "prisma", "--dry-run", url=clean_prisma_db)
    assert result.code == 0, result.output
    assert "No row breaks our constraints." in result.stdout
    assert (
        "The conversion, in one transaction: 283 statements" in result.stdout
        and "  -- goals" in result.stdout
    )


def test_the_adoption_asks_first_and_says_what_it_did(clean_prisma_db: DatabaseURL, tmp_path: Path) -> None:
    refused = run_cli("adopt", "prisma", "--backup-dir", str(tmp_path), url=clean_prisma_db)
    assert refused.code == 3 and "refused without confirmation" in refused.stderr
    assert "State of the history" not in refused.stdout and not list(tmp_path.iterdir())
    done = run_cli("--yes", "adopt", "prisma", "--backup-dir", str(tmp_path), url=clean_prisma_db)
    assert done.code == 0, done.output
    assert (
        "tables whose values were mapped (counts and checksums); 13 tables only renamed" in done.stdout
        and "pre-adoption backup:" in done.stdout
    )


def test_undo_asks_first_then_gives_the_layout_back(clean_prisma_db: DatabaseURL, tmp_path: Path) -> None:
    assert run_cli("--yes", "adopt", "prisma", "--backup-dir", str(tmp_path), url=clean_prisma_db).code == 0
    refused = run_cli("adopt", "prisma", "--undo", url=clean_prisma_db)
    assert refused.code == 3 and "refused without confirmation" in refused.stderr
    done = run_cli("--yes", "adopt", "prisma", "--undo", "--backup-dir", str(tmp_path), url=clean_prisma_db)
    assert done.code == 0, done.output
    assert "Prisma layout given back" in done.stdout and "14 tables only renamed" in done.stdout


def test_fix_names_what_to_do_with_each_kind_and_the_report_counts_it(
    prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    bad = run_cli("adopt", "prisma", "--dry-run", "--fix", "check=delete", url=prisma_db)
    assert (
        bad.code == 2 and "expected WHAT=ACTION" in bad.stderr and len(bad.stderr.strip().splitlines()) <= 2
    )
    partial = run_cli("adopt", "prisma", "--dry-run", "--fix", "check=clamp", url=prisma_db)
    assert partial.code == 5 and "-> --fix clamp" in partial.stdout
    assert "not fixed: task_notes: 1 row(s) break fk_task_notes_user_id_users" in partial.stdout
    fixes = ("--fix", "check=clamp", "--fix", "reference=archive")
    assert run_cli("adopt", "prisma", "--dry-run", *fixes, url=prisma_db).code == 0
    done = run_cli("--yes", "adopt", "prisma", *fixes, "--backup-dir", str(tmp_path), url=prisma_db)
    assert done.code == 0, done.output
    assert "fixed: tasks: 2 row(s) breaking ck_tasks_estimated_minutes_positive" in done.stdout
    assert "moved to the archive" in done.stdout


def test_the_dry_run_of_an_older_state_shows_the_step_forward_first(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        populate_2025_11(conn, planted=False)
    result = run_cli("adopt", "prisma", "--dry-run", url=db_url)
    assert result.code == 0, result.output
    assert "State of the history: before 2025-11-20" in result.stdout
    first = result.stdout.index("-- first, the older state brought to 2025-12-11")
    assert (
        first
        < result.stdout.index('ALTER TABLE "tasks" ALTER COLUMN "type" TYPE "TaskType" USING')
        < result.stdout.index("-- tasks")
    )
    assert "Nothing was changed." in result.stdout
