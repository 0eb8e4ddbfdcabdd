"""ops/migrate/recipes, the package: `migrate dev` on a populated database writes a change that would lock
or rewrite a table as revisions in steps; on an empty table one plain revision unless asked; a rename the
models do not make is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

from conftest import in_project
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import edit_models, ok
from ops.migrate.recipes.recipekit import INTEGER, MINUTES, SHIPPED, dev, seeded

__all__ = ["seeded"]  # the fixture


def test_on_an_empty_table_the_change_is_one_plain_revision_unless_asked_in_steps(
    project: Path, deployed: DatabaseURL
) -> None:
    edit_models(project, *INTEGER)
    edit_models(project, *MINUTES)
    plain = dev(project, deployed, "--in-steps", "minutes_int")
    assert len(plain["steps"]) == 3  # asked for: in steps even though tasks is empty
    ok(in_project(project, deployed, "--yes", "migrate", "rollback", "to", SHIPPED))
    for step in plain["steps"]:
        Path(step["path"]).unlink()
    one = dev(project, deployed, "minutes_int")
    assert (
        one["steps"] == [] and "ALTER COLUMN estimated_minutes TYPE integer" in Path(one["path"]).read_text()
    )


def test_a_rename_the_models_do_not_make_is_refused_before_anything_is_written(
    project: Path, seeded: DatabaseURL
) -> None:
    result = in_project(project, seeded, "migrate", "dev", "x", "--rename", "tasks.title=name")
    assert result.code == 3 and "--rename tasks.title=name" in result.stderr
    bad = in_project(project, seeded, "migrate", "dev", "x", "--rename", "title")
    assert bad.code == 2 and "TABLE.OLD=NEW" in bad.stderr
