"""What a drill found: its phases and their times, RTO and RPO, the problems, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mandala_db.core.errors import CheckFailed, MandalaError


@dataclass
class DrillResult:
    backup: str
    backup_finished_at: str
    started_at: str
    phases: dict[str, float] = field(default_factory=dict)  # seconds
    rpo_s: float = 0.0
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    rehearsal: list[dict[str, Any]] = field(default_factory=list)
    scratch: str = ""
    fault: MandalaError | None = None  # the backup could not be fetched (credentials, endpoint, permission)

    def failure(self) -> MandalaError | None:
        """The error for a missed target or a failed check (exit 5), or for a backup that could not be
        fetched (its own exit code), raised once the result is shown."""
        if self.ok:
            return None
        if self.fault is not None:
            return self.fault
        return CheckFailed("drill failed: " + "; ".join(self.problems[:3]), "see `mandala-db drill history`")

    @property
    def rto_s(self) -> float:
        """What a real recovery would take: everything but the rehearsal."""
        return sum(v for k, v in self.phases.items() if k != "rehearse")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "started_at": self.started_at,
            "backup": self.backup,
            "backup_finished_at": self.backup_finished_at,
            "phases_s": {k: round(v, 3) for k, v in self.phases.items()},
            "rto_s": round(self.rto_s, 3),
            "rpo_s": round(self.rpo_s, 1),
            "rehearsal": self.rehearsal,
            "problems": self.problems,
            "scratch_database": self.scratch,
        }


def report_markdown(result: DrillResult) -> str:
    """Fit to attach as audit evidence of a restore test."""
    rows = "".join(f"| {k} | {v:.2f} s |\n" for k, v in result.phases.items())
    problems = "".join(f"- {p}\n" for p in result.problems) or "- none\n"
    rehearsal = "".join(
        f"- {r['direction']} {r['revision']}: {r['duration_ms'] / 1000:.2f} s\n" for r in result.rehearsal
    )
    return (
        f"# Recovery drill, {result.started_at[:19]} UTC\n\n"
        f"Result: **{'passed' if result.ok else 'FAILED'}**\n\n"
        f"- Backup: `{result.backup}` (finished {result.backup_finished_at})\n"
        f"- Restored into the scratch database `{result.scratch}` (dropped afterwards; the live database untouched)\n"
        f"- RTO (measured): {result.rto_s:.2f} s\n- RPO (now minus the backup's end): {result.rpo_s:.0f} s\n\n"
        f"| phase | time |\n|---|---|\n{rows}\n## Problems\n\n{problems}"
        + (f"\n## Rehearsal of the next deploy\n\n{rehearsal}" if result.rehearsal else "")
    )
