"""Where results go: one JSON document on stdout with --json, Rich text otherwise; logs always on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any, Protocol

from mandala_db.core.events import bus
from mandala_db.core.settings import Settings


class Screen(Protocol):
    """What the views print to: a Rich console, or plain text off a terminal."""

    def print(self, *objects: Any, markup: bool | None = None) -> None: ...


def rich_console(stream: IO[str]) -> Any:
    from rich.console import Console

    # Off a terminal, Rich would wrap at 80 columns and cut ids in tables: give it room instead.
    width = None if stream.isatty() else 160
    return Console(file=stream, highlight=False, width=width, soft_wrap=not stream.isatty())


class PlainScreen:
    """Off a terminal, text goes out exactly as written (no markup, no wrapping), and Rich, which costs a
    noticeable part of a short command's start, is loaded only to draw a table."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._rich: Any = None

    def print(self, *objects: Any, markup: bool | None = None) -> None:
        if all(isinstance(o, str) for o in objects):
            self.stream.write(" ".join(objects) + "\n")
            return
        if self._rich is None:
            self._rich = rich_console(self.stream)
        self._rich.print(*objects, markup=markup)


def print_table(
    console: Screen,
    title: str,
    columns: list[str],
    rows: list[list[str]],
    *,
    whole: tuple[str, ...] = (),
    right: tuple[str, ...] = (),
) -> None:
    """A table in which nothing a user must copy is cut: the `whole` columns (file names, revision ids, URLs)
    fold onto the next line on a narrow terminal instead of ending in an ellipsis, and off a terminal
    (piped, redirected) the table is plain text, every value whole, columns aligned by spaces."""
    if isinstance(console, PlainScreen):
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]

        def line(values: list[str]) -> str:
            cells = [
                v.rjust(w) if c in right else v.ljust(w)
                for c, v, w in zip(columns, values, widths, strict=True)
            ]
            return "  ".join(cells).rstrip()

        console.print(title)
        console.print(line(columns))
        for row in rows:
            console.print(line(row))
        return
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(
            c, overflow="fold" if c in whole else "ellipsis", justify="right" if c in right else "left"
        )
    for row in rows:
        table.add_row(*row)
    console.print(table)


class Output:
    # One JSON document per run: once a result is out, a later failure only sets the exit code and logs.
    document_written = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # With --json, stdout carries the document alone: human text moves to stderr.
        stream = sys.stderr if settings.json_output else sys.stdout
        self.console: Screen = rich_console(stream) if stream.isatty() else PlainScreen(stream)

    def result(self, data: dict[str, Any], human: Callable[[Screen], None]) -> None:
        if self.settings.json_output:
            text = bus.scrub(json.dumps(data, ensure_ascii=False, default=str, indent=2))
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            Output.document_written = True
        else:
            human(self.console)


class ProgressBar:
    """A progress bar on a terminal; nothing at all when stderr is a pipe or --json is used (the structured
    start and complete records say what happened there)."""

    def __init__(self, json_output: bool, total: int, label: str, unit: str | None = None) -> None:
        self.enabled = sys.stderr.isatty() and not json_output
        self.total, self.label, self.unit = total, label, unit  # unit: a rate column (rows/s) is shown
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> ProgressBar | None:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        unit = self.unit
        rate = [TextColumn("{task.fields[rate]}")] if unit else []
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            *rate,
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=self.total or None, rate="")
        return self

    def advance_by(self, what: str, amount: int) -> None:
        """Seeds: rows just sent for a table."""
        self.bar.update(self.task, advance=amount, description=f"{self.label}: {what}")

    def tables(self, done: int, total: int, table: str) -> None:
        """Dumps and restores: tables done so far."""
        self.bar.update(self.task, completed=done, total=total or None, description=f"{self.label}: {table}")
        if self.unit:
            speed = self.bar.tasks[0].speed if self.bar.tasks else None
            self.bar.update(self.task, rate=f"{speed:,.0f} {self.unit}/s" if speed else "")

    def bytes(self, amount: int) -> None:
        """Uploads and downloads."""
        self.bar.update(self.task, advance=amount)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
