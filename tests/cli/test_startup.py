"""What a command loads decides how fast it answers: the everyday commands never import Alembic,
SQLAlchemy, the models or pydantic, and a deploy with the rendered revisions cached does not either.
Read from `python -X importtime`, which names every module a process imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from mandala_db.core.url import DatabaseURL

HEAVY = ("alembic", "sqlalchemy", "mandala_db.schema", "pydantic", "pglast")


def imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


@pytest.mark.parametrize(
    "args",
    [("--help",), ("migrate", "status"), ("restore", "list"), ("backup", "stats")],
    ids=lambda a: " ".join(a),
)
def test_everyday_commands_import_nothing_heavy(
    db_url: DatabaseURL, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run_cli(*args, url=db_url, env={"PYTHONPROFILEIMPORTTIME": "1", "BACKUP_DIR": str(tmp_path)})
    assert result.code == 0, result.output
    modules = imported(result.stderr)
    assert "mandala_db.cli" in modules  # the measurement itself works
    assert heavy(modules) == []


def test_a_deploy_with_a_warm_cache_leaves_alembic_unloaded(db_url: DatabaseURL, tmp_path: Path) -> None:
    env = {"PYTHONPROFILEIMPORTTIME": "1", "MANDALA_CACHE_DIR": str(tmp_path / "cache")}
    first = run_cli("migrate", "deploy", url=db_url, env=env)
    assert first.code == 0, first.output
    assert "alembic" in imported(first.stderr)  # cold: Alembic renders every revision once
    assert run_cli("--yes", "migrate", "rollback", "to", "base", url=db_url).code == 0
    second = run_cli("migrate", "deploy", url=db_url, env=env)
    assert second.code == 0, second.output
    assert "7 revision(s) done" in second.stdout
    assert heavy(imported(second.stderr)) == []


def test_a_global_option_with_a_value_is_not_taken_for_a_command_group(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    """`--metrics emf migrate status` builds the migrate group alone, as `migrate status` does."""
    env = {"PYTHONPROFILEIMPORTTIME": "1", "MANDALA_METRICS_FILE": str(tmp_path / "m.emf")}
    result = run_cli("--metrics", "emf", "--log-format", "text", "migrate", "status", url=db_url, env=env)
    assert result.code == 0, result.output
    modules = imported(result.stderr)
    assert "mandala_db.cli.migrate" in modules and "mandala_db.cli.backup" not in modules
