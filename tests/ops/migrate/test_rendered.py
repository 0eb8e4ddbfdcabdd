"""The rendered-revision cache: a warm cache spares Alembic and pglast, a changed revision file or a
damaged entry is rendered again, and what comes out of the cache is exactly what Alembic renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.rendered import Renderer
from mandala_db.ops.migrate.runner import AlembicRunner, sql_checksum

HISTORY = History.load()


@pytest.mark.parametrize("direction", ["upgrade", "downgrade"])
def test_a_cached_step_is_what_alembic_renders(tmp_path: Path, direction: str) -> None:
    rev = HISTORY.named("task_management")
    first = Renderer(tmp_path).step(rev, direction)
    again = Renderer(tmp_path).step(rev, direction)  # a new process would read the cache like this
    assert list((tmp_path / "rendered").glob("*.json")), "nothing was cached"
    fresh = AlembicRunner().revision_sql(rev, direction)
    for step in (first, again):
        assert step.sql == fresh
        assert step.checksum == sql_checksum(fresh)
    assert [(s.sql, s.kind, s.transactional, s.locks, s.creates, s.index) for s in again.statements] == [
        (s.sql, s.kind, s.transactional, s.locks, s.creates, s.index) for s in first.statements
    ]


def test_a_warm_cache_does_not_load_alembic(tmp_path: Path) -> None:
    renderer = Renderer(tmp_path)
    renderer.step(HISTORY.named("init"), "upgrade")
    cold_reader = Renderer(tmp_path)
    cold_reader.step(HISTORY.named("init"), "upgrade")
    assert cold_reader._runner is None  # the cache answered; Alembic was never asked


def test_a_damaged_entry_is_rendered_again(tmp_path: Path) -> None:
    rev = HISTORY.named("add_progress_and_change_history")
    Renderer(tmp_path).step(rev, "upgrade")
    (entry,) = (tmp_path / "rendered").glob("*.json")
    entry.write_text('{"format": 1, "revision": "x"')  # cut short
    step = Renderer(tmp_path).step(rev, "upgrade")
    assert step.sql == AlembicRunner().revision_sql(rev, "upgrade")


def test_an_edited_revision_file_is_a_new_entry(tmp_path: Path) -> None:
    """The key is the file's bytes: an edit (even one that renders the same SQL) never reads a stale entry."""
    versions = tmp_path / "versions"
    versions.mkdir()
    source = HISTORY.named("init").path
    copy = versions / source.name
    copy.write_text(source.read_text())
    rev = History.load(versions).named("init")
    renderer = Renderer(tmp_path / "cache")
    renderer._runner = AlembicRunner()  # renders the shipped files, which are what the copy says
    renderer.step(rev, "upgrade")
    copy.write_text(source.read_text() + "\n# an edit\n")
    renderer.step(History.load(versions).named("init"), "upgrade")
    assert len(list((tmp_path / "cache" / "rendered").glob("*.json"))) == 2


def test_without_a_cache_directory_nothing_is_written(tmp_path: Path) -> None:
    step = Renderer(None).step(HISTORY.named("init"), "upgrade")
    assert step.statements and not list(tmp_path.iterdir())
