"""Backups and drills of this installation: recent and proved."""

from __future__ import annotations

from mandala_db.ops.security.checks.registry import Check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import Finding


@check(
    "backup.freshness",
    "a recent good backup, and a recent drill that proved it restores",
    "medium",
    "schedule both: `mandala-db backup schedule --print cron` (or the workflow's schedule)",
    cis="7.3",
)
def _freshness(c: Check, facts: Facts) -> list[Finding]:
    if facts.backup_dir is None or not facts.backup_dir.exists():
        return c.skipped(
            f"not applicable: no backup folder at {facts.backup_dir or 'BACKUP_DIR'} on this machine"
        )
    from mandala_db.ops.drill import freshness

    fresh = freshness(facts.backup_dir)
    out: list[Finding] = []
    backup_age, drill_age = fresh["newest_good_backup_age_s"], fresh["last_passed_drill_age_s"]
    if backup_age is None or backup_age > 26 * 3600:
        out += c.failed("no good full backup in the last 26 h" if backup_age is not None else "no good full backup at all",
                        object="backups")  # fmt: skip
    if drill_age is None or drill_age > 8 * 86400:
        out += c.failed("no passed drill in the last 8 days" if drill_age is not None else "no drill has passed yet",
                        object="drills", severity="low")  # fmt: skip
    return out or c.passed(
        f"newest good backup {backup_age / 3600:.1f} h old, last passed drill {drill_age / 86400:.1f} days ago"
    )
