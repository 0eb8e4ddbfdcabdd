"""The parts every recipe shares: a step (one revision to write), statements paired with their undo, the
recipes found so far, and the names and definitions they rewrite."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mandala_db.core.catalog import Snapshot, Table
from mandala_db.core.errors import Refused
from mandala_db.migrations.backfill import Backfill, Phase
from mandala_db.ops.migrate.model import KNOWN_VOLATILE

NAME_LIMIT = 63  # PostgreSQL truncates longer identifiers, so two long names could become one


def per_row(default: str) -> bool:
    """Whether a default gives each row its own value (a volatile function: the functions lint knows)."""
    return any(f.lower() in KNOWN_VOLATILE for f in re.findall(r"(\w+)\s*\(", default))


@dataclass
class Step:
    slug: str  # appended to the revision's name: expand, validate, contract
    phase: Phase | None = None
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)  # run in the order given (already reversed)
    backfills: list[Backfill] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)  # what its downgrade throws away
    warnings: list[str] = field(default_factory=list)
    waivers: dict[str, str] = field(default_factory=dict)  # lint rules this step breaks on purpose, and why


@dataclass
class Pairs:
    """Statements with their undo, so a downgrade is always the exact reverse of its upgrade."""

    pairs: list[tuple[str, list[str]]] = field(default_factory=list)
    backfills: list[Backfill] = field(default_factory=list)
    waivers: dict[str, str] = field(default_factory=dict)

    def add(self, up: str, *down: str) -> None:
        self.pairs.append((up, list(down)))

    def step(self, slug: str, phase: Phase | None = None) -> Step:
        down = [d for _, undo in reversed(self.pairs) for d in undo]
        return Step(slug, phase, [u for u, _ in self.pairs], down, list(self.backfills),
                    waivers=dict(self.waivers))  # fmt: skip


@dataclass
class Recipes:
    masked: Snapshot  # the models with the recipes' changes left out: what one plain revision may do
    current: Snapshot
    notes: list[str] = field(default_factory=list)  # one line per change, for the output
    expand: Pairs = field(default_factory=Pairs)
    validate: Pairs = field(default_factory=Pairs)
    contract: Pairs = field(default_factory=Pairs)

    def steps(self) -> list[Step]:
        """The steps in order, empty ones left out; phases only when there is a contract to wait for."""
        phased = bool(self.contract.pairs)
        steps = [
            self.expand.step("expand" if phased else "", "expand" if phased else None),
            self.validate.step("validate"),
            self.contract.step("contract", "contract"),
        ]
        return [s for s in steps if s.up or s.backfills]


def name(*parts: str) -> str:
    joined = "_".join(parts)
    return joined if len(joined) <= NAME_LIMIT else joined[: NAME_LIMIT - 9] + "_" + _digest(joined)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:8]


def uses(definition: str, column: str) -> bool:
    return re.search(rf'(?<![\w"]){re.escape(column)}(?![\w"])', definition) is not None


def rename_in(definition: str, old: str, new: str) -> str:
    return re.sub(rf'(?<![\w"]){re.escape(old)}(?![\w"])', new, definition)


def concurrently(index_sql: str) -> str:
    return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", index_sql)


def index_on(index_sql: str, old_name: str, new_name: str, old_col: str, new_col: str) -> str:
    """The same index under another name, over another column."""
    head, _, tail = index_sql.partition(" ON ")
    return head.replace(f" {old_name}", f" {new_name}", 1) + " ON " + rename_in(tail, old_col, new_col)


def primary_key(table: str, t: Table) -> str:
    for contype, definition in t.constraints.values():
        m = re.fullmatch(r"PRIMARY KEY \((\w+)\)", definition)
        if contype == "p" and m:
            return m.group(1)
    raise Refused(
        f"{table} has no one-column primary key to backfill it by, so its change cannot go in steps",
        "write the change by hand (`migrate dev NAME --empty`), or run it on an empty table",
    )
