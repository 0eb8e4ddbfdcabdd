"""What a run is asked to do (RunOptions, filled by the command line) and what it did (RunResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core.ledger import Direction
from mandala_db.ops.migrate.backfill import BatchPolicy, Progress


@dataclass
class RunOptions:
    """How a run behaves; the CLI fills it from its options."""

    environment: str = "development"
    lock_wait: float = 120.0
    lock_timeout: str = "5s"
    statement_timeout: str | None = None
    lock_timeout_explicit: bool = False  # given on the command line: wins over a revision's own value
    statement_timeout_explicit: bool = False
    lock_retries: int = 5  # tries for a revision that fails only for want of a lock
    cache_dir: Path | None = None  # where rendered revisions are kept between runs (None: not kept)
    heartbeat_s: float = 5.0  # a migration_progress record this often while a revision runs (0: none)
    expect_plan: str | None = None  # the sha256 of the reviewed plan: anything else is refused
    contract: bool = (
        True  # apply contract revisions (`migrate deploy` and `prod` stop before them by default)
    )
    min_age_s: float = 0.0  # a contract revision waits until the expand revision it closes is this old
    batches: BatchPolicy = field(default_factory=BatchPolicy)
    backfill_progress: Progress | None = None


@dataclass
class StepResult:
    revision: str
    direction: Direction
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "direction": self.direction,
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass
class RunResult:
    before: str | None
    after: str | None
    steps: list[StepResult] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
