"""What the migration tests share: the history's head, a revision added to a project copy, model edits, a
deploy with the demo data set, a deployer in a child process, and the run ledger read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from conftest import ROOT, Result, edit, in_project
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.loader import History

HEAD = History.load().head or ""


def add_revision(
    project: Path, rev_id: str, down: str, upgrade: list[str], downgrade: list[str], header: str = ""
) -> str:
    """A hand-written revision file in the copy of the project."""
    text = f'''"""{rev_id.split("_", 1)[1].replace("_", " ")}"""

from alembic import op
{header}
revision = "{rev_id}"
down_revision = "{down}"

UPGRADE = {upgrade!r}
DOWNGRADE = {downgrade!r}


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
'''
    (project / "src/mandala_db/migrations/versions" / f"{rev_id}.py").write_text(text)
    return rev_id


def edit_models(project: Path, old: str, new: str) -> None:
    edit(project, "schema/models.py", old, new)


TASK_INDEXES = '        Index(None, "deadline"),\n'


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def deploy_with_demo(project: Path, url: DatabaseURL) -> None:
    """The shipped history and the demo data set, run from the copy of the project."""
    ok(in_project(project, url, "migrate", "deploy"))
    ok(in_project(project, url, "seed", "demo"))


def spawn(url: DatabaseURL, *args: str, project: Path | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = url.render(mask=False)
    env["PYTHONPATH"] = str((project or ROOT) / "src")
    return subprocess.Popen(
        [sys.executable, "-m", "mandala_db", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def ledger(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            "SELECT revision, direction, status FROM mandala_migration_runs ORDER BY id"
        ).fetchall()
    ]


EXPAND = "20991231000000_minutes_v2_expand"
CONTRACT = "20991231000001_minutes_v2_contract"


def expand_and_contract(project: Path) -> None:
    add_revision(project, EXPAND, HEAD, ["ALTER TABLE tasks ADD COLUMN minutes_v2 integer"],
                 ["ALTER TABLE tasks DROP COLUMN minutes_v2"],
                 header='from mandala_db.migrations.backfill import Backfill\n\nphase = "expand"\n'
                 'backfills = [Backfill("tasks", set="minutes_v2 = estimated_minutes", where="minutes_v2 IS NULL")]\n')  # fmt: skip
    add_revision(project, CONTRACT, EXPAND, ["ALTER TABLE tasks ALTER COLUMN minutes_v2 SET NOT NULL"],
                 ["ALTER TABLE tasks ALTER COLUMN minutes_v2 DROP NOT NULL"], header='\nphase = "contract"\n')  # fmt: skip
