"""core/progress.py: an operation asks for a bar and feeds it without knowing who shows it; with no bars
(a pipe, --json, a library caller) it gets None and feeds nothing."""

from __future__ import annotations

from mandala_db.core.progress import no_bars


def test_without_bars_an_operation_gets_none_and_goes_on() -> None:
    with no_bars(1000, "dump") as bar:
        assert bar is None
