"""cli/github: findings as GitHub Actions annotations. Only under GITHUB_ACTIONS=true; the first ten of
each level as workflow commands (GitHub shows no more a step), every one in the step summary; values are
escaped so a colon, comma or newline cannot end a property or the message; with --json they go to stderr
so the document stays valid; step outputs for later jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.cli.github import PER_LEVEL, Annotation, emit, escape, line_of, outputs


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    return tmp_path


def test_values_are_escaped_as_workflow_commands_require() -> None:
    assert escape("50%\nnext") == "50%25%0Anext"
    assert escape("a:b,c", prop=True) == "a%3Ab%2Cc" and escape("a:b,c") == "a:b,c"


def test_ten_a_level_on_the_diff_and_every_one_in_the_summary(
    actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = [
        Annotation("error", "versions/r1.py", n, "non-concurrent-index", f"finding {n}") for n in range(1, 13)
    ]
    found.append(Annotation("warning", None, None, "schema.drift", "a | b"))
    emit(found)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == PER_LEVEL + 1
    assert lines[0] == "::error file=versions/r1.py,line=1,title=non-concurrent-index::finding 1"
    assert lines[-1] == "::warning title=schema.drift::a | b"
    summary = (actions / "summary.md").read_text()
    assert "### mandala-db findings (13)" in summary and "finding 12" in summary and "a / b" in summary


def test_beside_a_json_document_they_go_to_stderr(actions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emit([Annotation("notice", None, None, "t", "m")], json_output=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "::notice title=t::m\n"


def test_outside_github_actions_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    emit([Annotation("error", None, None, "t", "m")])
    outputs({"plan_sha256": "ab"})
    assert capsys.readouterr().out == "" and not (tmp_path / "output").exists()


def test_step_outputs_are_appended(actions: Path) -> None:
    outputs({"plan_sha256": "ab12", "needs_review": "true"})
    assert (actions / "output").read_text() == "plan_sha256=ab12\nneeds_review=true\n"


def test_a_finding_points_at_the_line_that_names_its_object(tmp_path: Path) -> None:
    revision = tmp_path / "r.py"
    revision.write_text(
        '"""Adds tasks.priority"""\nrevision = "r"\n\n\ndef upgrade() -> None:\n    op.add_column("tasks", x)\n'
    )
    assert line_of(revision, ["tasks"]) == 6  # not the docstring that mentions it
    assert line_of(revision, ["nowhere"]) == 5 and line_of(tmp_path / "gone.py", ["tasks"]) == 1
