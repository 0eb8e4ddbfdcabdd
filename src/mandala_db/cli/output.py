"""Where results go: one JSON document on stdout with --json, Rich text otherwise; logs always on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console

from mandala_db.core.config import Settings
from mandala_db.core.events import bus


class Output:
    # One JSON document per run: once a result is out, a later failure only sets the exit code and logs.
    document_written = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # With --json, stdout carries the document alone: human text moves to stderr.
        stream = sys.stderr if settings.json_output else sys.stdout
        # Off a terminal, Rich would wrap at 80 columns and cut ids in tables: give it room instead.
        width = None if stream.isatty() else 160
        self.console = Console(file=stream, highlight=False, width=width, soft_wrap=not stream.isatty())

    def result(self, data: dict[str, Any], human: Callable[[Console], None]) -> None:
        if self.settings.json_output:
            text = bus.scrub(json.dumps(data, ensure_ascii=False, default=str, indent=2))
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            Output.document_written = True
        else:
            human(self.console)
