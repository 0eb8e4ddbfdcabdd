"""How the security commands show their results to a person. Rendering only; the JSON documents are the
results' own `to_dict`."""

from __future__ import annotations

from typing import Any

from mandala_db.cli.output import Screen


def print_security_report(console: Screen, report: Any) -> None:
    marks = {"pass": "pass", "fail": "FAIL", "skipped": "skip", "unknown": "unknown"}
    console.print(
        f"Security check as {report.role}{' (superuser)' if report.superuser else ''}, PostgreSQL {report.server_version}:"
    )
    for f in report.findings:
        mark = "supp" if f.status == "fail" and f.suppressed else marks[f.status]
        where = f" [{f.object}]" if f.object else ""
        cis = f" (CIS {f.cis})" if f.cis else ""
        console.print(f"  {mark} {f.severity:6} {f.id}{cis}{where}: {f.evidence}", markup=False)
        if f.status == "fail" and not f.suppressed and f.remediation:
            console.print(f"         fix: {f.remediation}", markup=False)
        if f.suppressed:
            console.print(f"         suppressed: {f.suppressed}", markup=False)
    for problem in report.suppression_problems:
        console.print(f"  suppression ignored: {problem}", markup=False)
    c = report.counts()
    if any(f.cis for f in report.findings):
        console.print(f"CIS numbers: {report.to_dict()['benchmark']}")
    console.print(
        f"{c['pass']} passed, {c['fail']} failed, {c['skipped']} skipped, {c['suppressed']} suppressed"
        + (f", {c['unknown']} unknown" if c["unknown"] else "")
    )


def print_recommendation(console: Screen, advice: Any) -> None:
    for section in advice.sections:
        console.print(f"# {section.title}", markup=False)
        for line in section.lines:
            console.print(line.text, markup=False)
            note = f"  -- {line.why}" + (f" (fixes here: {', '.join(line.fixes)})" if line.fixes else "")
            console.print(note, markup=False)
        console.print("")


def print_audit(console: Screen, live: Any) -> None:
    console.print(f"Security audit of {live.database}:")
    for name, rows in live.sections.items():
        console.print(f"  {name} ({len(rows)})")
        for row in rows:
            console.print(f"    {row}", markup=False)


def print_audit_diff(console: Screen, against: str, diff: Any) -> None:
    if diff.empty:
        console.print(f"No change since {against}.")
        return
    for label, part in (("added", diff.added), ("removed", diff.removed)):
        for name, rows in part.items():
            for row in rows:
                console.print(f"  {label}: {name}: {row}", markup=False)
    for row in diff.changed:
        console.print(f"  changed: owners: {row}", markup=False)
