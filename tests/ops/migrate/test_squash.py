"""ops/migrate/squash.py: `migrate squash --to REV` puts one baseline in place of the history up to REV. A
database that applied the old revisions and one that applies the baseline end with the same schema, both
validate, and neither is told a file was edited; nothing is written unless the baseline is proved first."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import connect_to, create_database, database_state, drop_database, in_project
from mandala_db.core.errors import OperationFailed
from mandala_db.core.settings import Environment
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate import squash as squash_module
from mandala_db.ops.migrate.loader import History

VERSIONS = Path("src/mandala_db/migrations/versions")


def files(project: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((project / VERSIONS).glob("*.py"))}


@pytest.fixture
def second_db(admin_url: DatabaseURL, db_url: DatabaseURL) -> Iterator[DatabaseURL]:
    name = f"{db_url.dbname}_b"
    url = create_database(admin_url, name)
    yield url
    drop_database(admin_url, name)


def test_the_baseline_replaces_the_history_and_old_and_new_databases_both_validate(
    project: Path, db_url: DatabaseURL, second_db: DatabaseURL
) -> None:
    # A: the database that applied the seven old revisions, with rows in it.
    assert in_project(project, db_url, "migrate", "deploy").code == 0
    schema = database_state(db_url)["schema"]
    assert in_project(project, db_url, "seed", "demo").code == 0
    with connect_to(db_url) as c:
        before = c.execute("SELECT count(*) FROM tasks").fetchone()
    done = in_project(project, db_url, "--json", "migrate", "squash", "--to", "split_reflections")
    assert done.code == 0, done.output
    doc = json.loads(done.stdout)
    assert len(doc["replaces"]) == 7 and doc["revision"] == "20250409000000_split_reflections"
    left = files(project)
    assert list(left) == ["20250409000000_split_reflections.py"]
    text = left["20250409000000_split_reflections.py"]
    assert "down_revision = None" in text and text.count('("2025') + text.count('("2024') == 7
    assert not list((project / VERSIONS).glob(".*")), "nothing is left aside or half-written"

    # A validates (its recorded checksums are the replaced files'); nothing pending, no drift.
    check = in_project(project, db_url, "migrate", "validate")
    assert check.code == 0 and "edited" not in check.output, check.output
    assert "up to date" in in_project(project, db_url, "migrate", "status").stdout
    # B: a new database applies the baseline alone and ends with A's schema.
    fresh = in_project(project, second_db, "migrate", "deploy")
    assert fresh.code == 0 and "1 revision(s) done" in fresh.stdout, fresh.output
    assert in_project(project, second_db, "migrate", "validate").code == 0
    assert database_state(second_db)["schema"] == schema
    # Rolled back through the baseline, A keeps its rows in the archive and gets them back.
    assert in_project(project, db_url, "migrate", "rollback", "to", "base", "--yes").code == 0
    assert in_project(project, db_url, "migrate", "deploy").code == 0
    with connect_to(db_url) as c:
        assert c.execute("SELECT count(*) FROM tasks").fetchone() == before


def test_squashing_part_of_the_history_twice_leaves_the_later_revisions_untouched(
    project: Path, db_url: DatabaseURL, second_db: DatabaseURL
) -> None:
    assert in_project(project, db_url, "migrate", "deploy").code == 0
    shipped = files(project)
    assert in_project(project, db_url, "migrate", "squash", "--to", "add_processing_state").code == 0
    second = in_project(project, db_url, "migrate", "squash", "--to", "add_reminder_tables")
    assert second.code == 0, second.output
    left = files(project)
    later = ["20250320000000_add_workflow_executions.py", "20250409000000_split_reflections.py"]
    assert list(left) == ["20250305000000_add_reminder_tables.py", *later]
    assert all(left[name] == shipped[name] for name in later), "a later revision is never edited"
    # The second baseline stands for the first one too (and for what the first replaced).
    replaced = History.load(project / VERSIONS).revisions[0].replaces
    assert [rid for rid, _ in replaced].count("20250122000000_add_processing_state") == 2
    assert len(replaced) == 3 + 1 + 2
    assert in_project(project, db_url, "migrate", "validate").code == 0
    fresh = in_project(project, second_db, "migrate", "deploy")
    assert fresh.code == 0 and "3 revision(s) done" in fresh.stdout, fresh.output
    assert in_project(project, second_db, "migrate", "validate").code == 0


def test_a_database_part_way_through_what_would_be_squashed_is_not_stranded(
    project: Path, db_url: DatabaseURL, second_db: DatabaseURL
) -> None:
    assert in_project(project, second_db, "migrate", "deploy").code == 0
    assert in_project(project, db_url, "migrate", "deploy").code == 0
    back = in_project(
        project, db_url, "migrate", "rollback", "to", "add_progress_and_change_history", "--yes"
    )
    assert back.code == 0, back.output
    shipped = files(project)
    refused = in_project(project, db_url, "migrate", "squash", "--to", "task_management")
    assert refused.code == 3 and "before 20250212000000_task_management" in refused.stderr, refused.output
    assert files(project) == shipped
    # Squashed from another database, this one is told where it stands and what to do.
    assert in_project(project, second_db, "migrate", "squash", "--to", "task_management").code == 0
    stranded = in_project(project, db_url, "migrate", "deploy")
    assert stranded.code == 2, stranded.output
    assert "which the squashed baseline 20250212000000_task_management replaces" in stranded.stderr
    assert "with the code from before the squash" in stranded.stderr


def test_a_dry_run_proves_and_writes_nothing_and_bad_targets_are_one_line(
    project: Path, db_url: DatabaseURL
) -> None:
    shipped = files(project)
    dry = in_project(project, db_url, "migrate", "squash", "--to", "head", "--dry-run")
    assert dry.code == 0 and "Would write the baseline" in dry.stdout, dry.output
    assert "proved equal to what the 7 revisions build" in dry.stdout
    for to, says in (("init", "nothing to squash"), ("base", "cannot squash to base"), ("nope", "unknown")):
        bad = in_project(project, db_url, "migrate", "squash", "--to", to)
        assert bad.code == 2 and says in bad.stderr and len(bad.stderr.strip().splitlines()) <= 2, bad.output
    staging = in_project(project, db_url, "migrate", "squash", "--to", "head", env={"MANDALA_ENV": "staging"})
    assert staging.code == 3 and "not for staging" in staging.stderr
    assert files(project) == shipped


def test_an_edit_of_the_baseline_is_still_an_edit_for_a_database_that_applied_it(
    project: Path, db_url: DatabaseURL
) -> None:
    assert in_project(project, db_url, "migrate", "squash", "--to", "head").code == 0
    assert in_project(project, db_url, "migrate", "deploy").code == 0
    baseline = project / VERSIONS / "20250409000000_split_reflections.py"
    baseline.write_text(
        baseline.read_text().replace(
            '"CREATE TYPE action_type',
            '"CREATE TYPE action_kind AS ENUM (\'A\')",\n    "CREATE TYPE action_type',
            1,
        )
    )
    check = in_project(project, db_url, "migrate", "validate")
    assert check.code == 5 and "edited after it was applied and its SQL changed" in check.output, check.output


def test_a_failure_while_the_files_change_puts_every_file_back(
    tmp_path: Path, db_url: DatabaseURL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mandala_db.core.database import Database

    directory = tmp_path / "versions"
    shutil.copytree(
        History.load().revisions[0].path.parent, directory, ignore=shutil.ignore_patterns("__py*")
    )
    shipped = {p.name: p.read_bytes() for p in directory.glob("*.py")}
    real_load = History.load
    calls = {"n": 0}

    def load_then_fail(path: Path = directory) -> History:
        calls["n"] += 1
        if calls["n"] == 2:  # the check after the files moved
            raise OperationFailed("the disk went away")
        return real_load(path)

    monkeypatch.setattr(squash_module.History, "load", staticmethod(load_then_fail))
    with pytest.raises(OperationFailed, match="the disk went away"):
        squash_module.squash(Database(db_url), Environment.DEVELOPMENT, "head", directory=directory)
    assert {p.name: p.read_bytes() for p in directory.glob("*.py")} == shipped
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(".")) == []


def test_the_tables_come_back_parents_first() -> None:
    from mandala_db.core.catalog import Snapshot, Table

    snap = Snapshot("s")
    snap.tables = {
        "tasks": Table(constraints={"fk": ("f", "FOREIGN KEY (action_id) REFERENCES actions(id)")}),
        "actions": Table(constraints={"fk": ("f", "FOREIGN KEY (goal_id) REFERENCES goals(id)")}),
        "goals": Table(constraints={"self": ("f", "FOREIGN KEY (parent) REFERENCES goals(id)")}),
    }
    assert squash_module.parents_first(snap) == ["goals", "actions", "tasks"]


def test_a_history_with_what_is_not_generated_is_refused_naming_it() -> None:
    from mandala_db.core.catalog import Snapshot
    from mandala_db.core.errors import Refused

    built = Snapshot("s", views={"open_tasks": "SELECT 1"})
    with pytest.raises(Refused, match="view open_tasks"):
        squash_module._render(built, Snapshot("s"))


def test_a_revision_whose_sql_has_japanese_comments_deploys_and_squashes(
    project: Path, db_url: DatabaseURL
) -> None:
    revision = project / VERSIONS / "20250501000000_add_priority.py"
    revision.write_text(
        '''"""Add priority"""
from alembic import op

revision = "20250501000000_add_priority"
down_revision = "20250409000000_split_reflections"


def upgrade() -> None:
    op.execute("-- 優先度（1〜5）\\nALTER TABLE tasks ADD COLUMN priority smallint")


def downgrade() -> None:
    op.execute("-- 元に戻す\\nALTER TABLE tasks DROP COLUMN priority")
''',
        encoding="utf-8",
    )
    deployed = in_project(project, db_url, "migrate", "deploy")
    assert deployed.code == 0 and "20250501000000_add_priority" in deployed.stdout, deployed.output
    assert in_project(project, db_url, "migrate", "rollback", "to", "split_reflections", "--yes").code == 0
    assert in_project(project, db_url, "migrate", "deploy").code == 0
    squashed = in_project(project, db_url, "migrate", "squash", "--to", "add_priority")
    assert squashed.code == 0, squashed.output
    check = in_project(project, db_url, "migrate", "validate")  # the models never had the column
    assert check.stdout.strip().splitlines() == [
        "error: models and revisions disagree: column tasks.priority: in the revision files but not in the models"
    ]


def test_a_failure_before_the_baseline_is_in_place_keeps_the_last_revisions_file(
    tmp_path: Path, db_url: DatabaseURL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mandala_db.core.database import Database

    directory = tmp_path / "versions"
    shutil.copytree(
        History.load().revisions[0].path.parent, directory, ignore=shutil.ignore_patterns("__py*")
    )
    shipped = {p.name: p.read_bytes() for p in directory.glob("*.py")}
    real_rename = Path.rename
    calls = {"n": 0}

    def rename_then_fail(self: Path, target: Path) -> Path:
        calls["n"] += 1
        if calls["n"] == 3:  # the third replaced file will not move: the disk is full
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_then_fail)
    with pytest.raises(OSError, match="No space left"):
        squash_module.squash(Database(db_url), Environment.DEVELOPMENT, "head", directory=directory)
    assert {p.name: p.read_bytes() for p in directory.glob("*.py")} == shipped
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith(".")) == []
