"""ops/migrate/runner: Alembic as the engine. A revision renders offline to the SQL it runs, in both
directions; another versions folder can stand in for the package's (squash proves a copy); the checksum of
rendered SQL ignores how it is laid out."""

from __future__ import annotations

import shutil
from pathlib import Path

from mandala_db.migrations import SCRIPT_LOCATION
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.runner import AlembicRunner, sql_checksum

HISTORY = History.load()
REMINDERS = HISTORY.by_id[HISTORY.resolve("add_reminder_tables")]


def test_a_revision_renders_the_sql_it_runs_up_and_down() -> None:
    runner = AlembicRunner()
    up = runner.revision_sql(REMINDERS)
    down = runner.revision_sql(REMINDERS, "downgrade")
    assert "CREATE TABLE reminder_logs (" in up
    assert f"UPDATE alembic_version SET version_num='{REMINDERS.id}'" in up
    assert "DROP TABLE" in down and f"version_num='{REMINDERS.down_revision}'" in down


def test_another_versions_folder_stands_in_for_the_packages(tmp_path: Path) -> None:
    folder = tmp_path / "a folder with spaces"
    folder.mkdir()
    for rev in HISTORY.upto(REMINDERS.down_revision):
        shutil.copy(rev.path, folder)
    runner = AlembicRunner(versions=folder)
    assert runner.script.get_current_head() == REMINDERS.down_revision
    assert AlembicRunner().script.get_current_head() == HISTORY.head
    assert (SCRIPT_LOCATION / "versions" / REMINDERS.path.name).exists()  # the package's own, untouched


def test_the_checksum_ignores_layout_but_not_content() -> None:
    assert sql_checksum("SELECT 1,\n    2;") == sql_checksum("SELECT 1, 2;")
    assert sql_checksum("SELECT 1, 2;") != sql_checksum("SELECT 1, 3;")
