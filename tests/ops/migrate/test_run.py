"""ops/migrate/run: what a run is asked to do and what it did. The defaults are the library's (every
revision, contracts included, as a scratch build needs); the command line narrows them."""

from __future__ import annotations

from mandala_db.ops.migrate.backfill import BatchPolicy
from mandala_db.ops.migrate.run import RunOptions, StepResult


def test_the_defaults_apply_everything_with_the_standard_batches() -> None:
    options = RunOptions()
    assert options.contract and options.min_age_s == 0 and options.lock_timeout == "5s"
    assert options.batches == BatchPolicy() and options.batches.target_ms == 200
    assert RunOptions().batches is not options.batches  # each run its own policy


def test_a_step_reports_its_duration_rounded() -> None:
    assert StepResult("r1", "upgrade", 12.345).to_dict() == {
        "revision": "r1",
        "direction": "upgrade",
        "duration_ms": 12.3,
    }
