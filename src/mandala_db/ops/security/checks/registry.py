"""The security checks' registry: one named unit each (as Supabase's splinter lints and the CIS PostgreSQL Benchmark
items that pgdsat implements): an id to suppress it by, the CIS number where one applies (`cis.py`), a severity, and
the remediation. A check the role cannot run says `skipped` and why; it never says `pass`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mandala_db.ops.security import cis as benchmark
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import FAIL, PASS, SKIPPED, Finding, Severity

# The newest minor release of each major version this table knows, and when it was written. A server
# behind it misses security fixes; a newer one only means the table is older than the server.
RELEASES_AS_OF = "2025-08-14"
NEWEST_MINOR = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}

NOT_LOCAL = "not applicable: the connection does not leave this machine (a Unix socket or loopback)"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    remediation: str
    cis: str | None
    run: Callable[[Check, Facts], list[Finding]]

    def finding(self, status: str, evidence: str, **kw: Any) -> Finding:
        if kw.get("sql"):  # the statement is the remediation, and recommend prints it as SQL
            kw.setdefault("remediation", kw["sql"])
        return Finding(
            id=self.id,
            title=self.title,
            severity=kw.pop("severity", self.severity),
            status=status,
            evidence=evidence,
            remediation=kw.pop("remediation", self.remediation if status == FAIL else ""),
            cis=self.cis,
            **kw,
        )

    def passed(self, evidence: str, **kw: Any) -> list[Finding]:
        return [self.finding(PASS, evidence, **kw)]

    def failed(self, evidence: str, **kw: Any) -> list[Finding]:
        return [self.finding(FAIL, evidence, **kw)]

    def skipped(self, reason: str, **kw: Any) -> list[Finding]:
        return [self.finding(SKIPPED, reason, **kw)]


CHECKS: list[Check] = []


def check(
    id: str, title: str, severity: Severity, remediation: str, cis: str | None = None
) -> Callable[[Callable[[Check, Facts], list[Finding]]], Check]:
    if not benchmark.known(cis):
        # a number cited from memory of another edition would send the reader to the wrong recommendation
        raise ValueError(f"check {id}: {cis} is not a recommendation of the {benchmark.BENCHMARK}")

    def register(fn: Callable[[Check, Facts], list[Finding]]) -> Check:
        unit = Check(id, title, severity, remediation, cis, fn)
        CHECKS.append(unit)
        return unit

    return register


def _setting_check(c: Check, facts: Facts, name: str, good: Callable[[str], bool]) -> list[Finding]:
    value = facts.setting(name)
    if value is None:
        return c.skipped(f"not enough privilege: {name} is visible only with pg_read_all_settings")
    return (c.passed if good(value) else c.failed)(f"{name} = {value!r}")
