"""How a long operation reports progress without knowing who shows it: it asks a `Bars` for a bar of a
given size and feeds it. The command line gives Rich bars on a terminal and none otherwise (`None`)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol


class Bar(Protocol):
    def tables(self, done: int, total: int, table: str) -> None:
        """Dumps and restores: tables done so far."""

    def bytes(self, amount: int) -> None:
        """Uploads and downloads: bytes just moved."""

    def advance_by(self, what: str, amount: int) -> None:
        """Seeds: rows just sent for a table."""


class Bars(Protocol):
    def __call__(self, total: int, label: str) -> AbstractContextManager[Bar | None]: ...


def no_bars(total: int, label: str) -> AbstractContextManager[Bar | None]:
    return nullcontext(None)
