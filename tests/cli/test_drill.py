"""cli/drill: `mandala-db drill` and `drill history` as a user meets them: a passed drill says its backup,
RTO by phase, RPO and the scratch database dropped, and writes the Markdown report asked for; the history
lists it; targets that are not durations are bad input before anything runs."""

from __future__ import annotations

from pathlib import Path

from cli.clikit import one_error_line
from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok, take_backup


def test_no_drill_yet_is_said(tmp_path: Path) -> None:
    result = run_cli("drill", "history", "--dir", str(tmp_path))
    assert (result.code, result.stdout) == (0, "No drill recorded yet: run `mandala-db drill`.\n")


def test_a_target_that_is_not_a_duration_is_bad_input(tmp_path: Path) -> None:
    result = run_cli(
        "drill",
        "--rto-target",
        "soon",
        "--dir",
        str(tmp_path),
        env={"MANDALA_STATE_DIR": str(tmp_path / "s")},
    )
    assert result.code == 2 and "--rto-target 'soon' is not a duration" in one_error_line(result)
    assert not (tmp_path / "s" / "pgdata").exists()


def test_a_drill_says_what_it_measured_writes_its_report_and_is_in_the_history(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    backup = take_backup(loaded, tmp_path)
    report = tmp_path / "drill.md"
    lines = ok(
        run_cli("drill", "--dir", str(tmp_path), "--report", str(report), url=loaded)
    ).stdout.splitlines()
    assert lines[0] == f"Drill passed: {backup}"
    assert lines[1].startswith("  RTO ") and "; RPO " in lines[1] and "restore " in lines[1]
    assert lines[-1].startswith("  scratch database ") and lines[-1].endswith(" dropped")
    assert report.read_text().startswith("#")
    history = ok(run_cli("drill", "history", "--dir", str(tmp_path))).stdout.splitlines()
    assert len(history) == 1 and "  passed  " in history[0] and history[0].endswith(str(backup))
