"""ops/drill/result.py: what a drill found. The RTO is every phase but the rehearsal; a drill that passed
raises nothing, one that missed a target is a check failure (exit 5) naming the problems, one whose backup
could not be fetched is that fault; the markdown report is fit to attach as audit evidence."""

from __future__ import annotations

from mandala_db.core.errors import CheckFailed, OperationFailed
from mandala_db.ops.drill.result import DrillResult, report_markdown


def result(**kw: object) -> DrillResult:
    base = DrillResult("full_20261202.dump", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00.123456Z",
                       phases={"fetch": 1.0, "restore": 2.5, "check": 0.5, "rehearse": 9.0}, rpo_s=3600.4,
                       scratch="mandala_drill_db_1")  # fmt: skip
    for key, value in kw.items():
        setattr(base, key, value)
    return base


def test_the_rto_is_every_phase_but_the_rehearsal() -> None:
    done = result(ok=True)
    assert done.rto_s == 4.0 and done.failure() is None
    assert done.to_dict()["rto_s"] == 4.0 and done.to_dict()["rpo_s"] == 3600.4


def test_a_missed_target_is_a_check_failure_and_an_unfetchable_backup_its_own_fault() -> None:
    missed = result(problems=["RTO 4.0 s is over the target 1 s", "b", "c", "d"]).failure()
    assert isinstance(missed, CheckFailed) and missed.exit_code == 5
    assert missed.message == "drill failed: RTO 4.0 s is over the target 1 s; b; c"
    fault = OperationFailed("no AWS credentials")
    assert result(fault=fault).failure() is fault


def test_the_report_says_the_verdict_the_times_and_the_rehearsal() -> None:
    rehearsal = [{"direction": "upgrade", "revision": "20250501000000_x", "duration_ms": 1500}]
    text = report_markdown(result(ok=False, problems=["row counts differ"], rehearsal=rehearsal))
    assert text.startswith("# Recovery drill, 2026-12-02T11:00:00 UTC\n\nResult: **FAILED**")
    assert "- RTO (measured): 4.00 s" in text and "| restore | 2.50 s |" in text
    assert "- row counts differ" in text and "- upgrade 20250501000000_x: 1.50 s" in text
    assert "## Rehearsal" not in report_markdown(result(ok=True)) and "- none" in report_markdown(
        result(ok=True)
    )
