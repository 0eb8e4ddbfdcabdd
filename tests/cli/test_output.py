"""cli/output: where results go. With --json, stdout carries one JSON document and nothing else (human
text moves to stderr), scrubbed of secrets; off a terminal a table is plain text with every value whole;
a progress bar exists only on a terminal without --json."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import SENTINEL_PASSWORD
from mandala_db.cli.output import Output, PlainScreen, ProgressBar, print_table
from mandala_db.core.events import bus
from mandala_db.core.settings import Environment, Settings


def settings(json_output: bool) -> Settings:
    return Settings(
        environment=Environment.DEVELOPMENT, database_url=None, state_dir=Path("."), json_output=json_output
    )


def test_json_output_is_one_scrubbed_document_on_stdout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Process-wide state: put back afterwards, or a command run later from this process would inherit it.
    monkeypatch.setattr(Output, "document_written", False)
    monkeypatch.setattr(bus, "secrets", {SENTINEL_PASSWORD})
    out = Output(settings(json_output=True))
    out.result(
        {"url": f"postgresql://app:{SENTINEL_PASSWORD}@h/d", "名前": "目標"},
        lambda screen: screen.print("human"),
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"url": "postgresql://app:****@h/d", "名前": "目標"}
    assert "human" not in captured.out and Output.document_written


def test_text_output_is_the_human_view(capsys: pytest.CaptureFixture[str]) -> None:
    Output(settings(json_output=False)).result(
        {"x": 1}, lambda screen: screen.print("Up to date", "(7 revisions)")
    )
    assert capsys.readouterr().out == "Up to date (7 revisions)\n"


def test_off_a_terminal_a_table_keeps_every_value_whole_and_aligned() -> None:
    stream = io.StringIO()
    long_id = "20250409000000_split_reflections_and_a_very_long_slug_that_a_terminal_would_cut"
    print_table(
        PlainScreen(stream), "Backups", ["file", "size"], [[long_id, "12 MB"], ["b", "3 kB"]], right=("size",)
    )
    assert stream.getvalue().splitlines() == [
        "Backups",
        "file" + " " * (len(long_id) - 4) + "   size",
        long_id + "  12 MB",
        "b" + " " * (len(long_id) - 1) + "   3 kB",
    ]


def test_a_plain_screen_writes_text_exactly_as_given() -> None:
    stream = io.StringIO()
    PlainScreen(stream).print("[bold]not markup[/bold]")
    assert stream.getvalue() == "[bold]not markup[/bold]\n"


def test_no_progress_bar_off_a_terminal_or_with_json() -> None:
    with ProgressBar(json_output=False, total=10, label="backup") as bar:
        assert bar is None  # pytest's stderr is not a terminal
    with ProgressBar(json_output=True, total=10, label="backup") as bar:
        assert bar is None
