"""Seed data sets, from a hand-written demo to a million generated rows, loaded through COPY.

`run` is the public face: the command line and the drill call it; the rest is this package's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mandala_db.core.events import bus
from mandala_db.core.progress import Bars, no_bars
from mandala_db.core.settings import Environment

if TYPE_CHECKING:
    from mandala_db.core.database import Database
    from mandala_db.ops.seed.loader import SeedResult
    from mandala_db.ops.seed.rows import DataSet


def run(
    db: Database,
    name: str,
    *,
    scale: float | None,
    remove: bool,
    environment: Environment,
    confirm: Callable[[str], None],
    bars: Bars = no_bars,
) -> SeedResult:
    """Load data set `name` (or, with remove, take exactly its rows away) on a database at the head.
    Refused in production; `confirm` (which raises to stop) is asked before a removal."""
    from mandala_db.ops.migrate import require_head
    from mandala_db.ops.seed import loader
    from mandala_db.ops.seed.datasets import build, check_allowed, check_name

    check_name(name, scale)
    check_allowed(environment)
    with db.connect() as conn:
        require_head(conn)
        if remove and scale is None:
            scale = loader.recorded_scale(conn, name)
        dataset = build(name, scale or 1.0)
        if remove:
            # Ask about the rows that are really there (none: nothing to ask, nothing to do).
            there = loader.present(conn, dataset)
            if there == 0:
                bus.info(
                    "seed_complete", f"the {name} data set is not in {db}: nothing to remove", dataset=name
                )
                return loader.SeedResult(name, scale or 1.0, "remove")
            confirm(f"Remove the {name} data set ({there:,} rows) from {db}")
        verb = "remove" if remove else "load"
        bus.info(
            "seed_start",
            f"seed {verb} started: {name} ({dataset.row_count:,} rows)",
            dataset=name,
            rows=dataset.row_count,
        )
        result = _move_rows(conn, dataset, scale or 1.0, remove=remove, bars=bars)
    bus.info(
        "seed_complete",
        f"seed {verb} complete: {name}, {result.total:,} rows {result.mode}",
        dataset=name,
        duration_ms=result.duration_ms,
        rows=result.total,
        mode=result.mode,
    )
    return result


def _move_rows(conn: Any, dataset: DataSet, scale: float, *, remove: bool, bars: Bars) -> SeedResult:
    """The rows in (or out), with a progress bar on a terminal."""
    from mandala_db.ops.seed import loader

    verb = "remove" if remove else "load"
    with bars(dataset.row_count, f"{verb} {dataset.name}") as bar:
        advance = bar.advance_by if bar else None
        if remove:
            return loader.remove(conn, dataset, scale, advance)
        return loader.load(
            conn,
            dataset,
            scale,
            advance,
            on_merge=lambda: bus.info(
                "seed_merge",
                f"some rows of {dataset.name} are already there: loading only the missing ones",
                dataset=dataset.name,
            ),
        )
