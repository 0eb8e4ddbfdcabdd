"""What a revision declares to fill a column outside its own transaction, and the phases of a change in
steps (expand, contract).

    phase = "expand"
    backfills = [Backfill("tasks", set="estimated_minutes_v2 = estimated_minutes",
                          where="estimated_minutes_v2 IS NULL")]

The loader reads these from the file's syntax tree, without running it: `table` and `key` are names, `set`
and `where` SQL fragments of the revision's author (as trusted as its other SQL). A `where` that is false
for a row once it is done (`... IS NULL`) makes every batch safe to run twice; `migrate deploy` runs the
backfills after the revision's DDL has committed, in batches by `key` ranges (ops/migrate/backfill.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["expand", "contract"]
PHASES: tuple[Phase, ...] = ("expand", "contract")


@dataclass(frozen=True)
class Backfill:
    table: str
    set: str
    where: str | None = None
    key: str = "id"  # a column unique and not null, with an index: the primary key as a rule

    @property
    def label(self) -> str:
        return f"{self.table}: SET {self.set}" + (f" WHERE {self.where}" if self.where else "")
