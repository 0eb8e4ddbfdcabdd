"""How the migration plans, pre-flights, validations and `migrate dev` show themselves to a person, and the
plan as a job summary. Rendering only; the JSON documents are the results' own `to_dict`."""

from __future__ import annotations

from typing import Any

from mandala_db.cli.context import human_size
from mandala_db.cli.output import Screen
from mandala_db.cli.views import print_run


def print_validation(console: Screen, findings: list[Any], revisions: int) -> None:
    for f in findings:
        console.print(f"  {f.severity}: {f.message}", markup=False)
    if not [f for f in findings if f.severity == "error"]:
        console.print(f"Valid: {revisions} revision(s), models, checksums and the live schema agree.")


def plan_markdown(plans: list[Any], sha: str) -> str:
    """The plan as a job summary: what a reviewer approves, with the sha256 that --expect-plan holds to."""
    if not plans:
        return f"### mandala-db plan: nothing pending\n\nplan sha256 `{sha}`"
    parts = [f"### mandala-db plan: {len(plans)} revision(s)\n\nplan sha256 `{sha}`"]
    for p in plans:
        lint = "".join(f"\n- {f.text()}" for f in p.findings) or "\n- lint: clean"
        sql = "\n\n".join(s.sql for s in p.statements if not s.bookkeeping)
        parts.append(f"#### {p.revision.id}\n{lint}\n\n```sql\n{sql}\n```")
    return "\n\n".join(parts)


def print_plan(console: Screen, plans: list[Any], sha: str | None = None) -> None:
    if sha is not None:
        console.print(f"Plan sha256 {sha} (migrate deploy --expect-plan {sha[:12]}... holds a deploy to it)")
    if not plans:
        console.print("Nothing pending: the database is at the head.")
        return
    for p in plans:
        r = p.revision
        took = f"  (took {p.timing_ms / 1000:.1f} s on {p.timing_from})" if p.timing_ms is not None else ""
        console.print(f"\n{r.id}  {r.title}{took}", markup=False)
        extras = []
        if r.lock_timeout or r.statement_timeout:
            extras.append(
                f"lock_timeout {r.lock_timeout or 'default'}, statement_timeout {r.statement_timeout or 'none'}"
            )
        if p.outside_transaction:
            extras.append("some statements run outside a transaction, one by one, resumable")
        if r.destructive_downgrade:
            extras.append(f"destructive downgrade: {r.destructive_downgrade}")
        if r.phase:
            extras.append(
                f"phase: {r.phase}"
                + (" (applied by `migrate deploy --contract`)" if r.phase == "contract" else "")
            )
        extras += [f"backfill after the DDL, in batches: {b.label}" for b in r.backfills]
        for e in extras:
            console.print(f"  {e}")
        for st in p.statements:
            if st.bookkeeping:
                continue
            flags = []
            if st.rewrites:
                flags.append("REWRITES " + ", ".join(sorted(st.rewrites)))
            if not st.transactional:
                flags.append("outside transaction")
            first = " ".join(st.sql.split())
            console.print(f"  - {st.kind}: {st.lock_text()}" + (f" [{'; '.join(flags)}]" if flags else ""))
            console.print(f"      {first[:150]}{'...' if len(first) > 150 else ''}", markup=False)
        for t in p.tables:
            state = (
                f"~{t.rows_estimate:,} rows, {human_size(t.size_bytes)}"
                if t.exists
                else "created by this plan"
            )
            console.print(f"  table {t.name}: {state}")
        for f in p.findings:
            console.print(f"  lint {f.text()}", markup=False)


def print_preflight(console: Screen, pre: Any, *, dry_run: bool) -> None:
    console.print(f"Pre-flight on PostgreSQL {pre.server_version}, at {pre.current or 'base (empty)'}:")
    marks = [
        ("checksums of applied revisions", not pre.semantic_edits),
        ("no drift from what the history built", not pre.drift),
        ("no unwaived lint errors", not pre.lint_errors),
        ("migration lock obtainable", not pre.lock_holder),
        ("no unsuppressed high security finding", not pre.security),
    ]
    for label, ok_ in marks:
        console.print(f"  {'ok  ' if ok_ else 'FAIL'} {label}")
    console.print(f"  {len(pre.blockers)} other session(s) hold or wait for locks on the tables touched")
    for b in pre.blockers:
        console.print(f"       {b.describe()}", markup=False)
    print_plan(console, pre.plans)
    if dry_run:
        refusal = pre.refusal()
        console.print(
            "\nDry run: nothing was changed."
            + (f" A real run would be refused: {refusal.line()}" if refusal else ""),
            markup=False,
        )


def print_prod(console: Screen, done: Any) -> None:
    print_run(console, done.result, "apply")
    console.print(f"Backup: {done.backup.path}")
    console.print(
        "Post-checks: head reached, schema exactly as the history builds"
        if done.post.ok
        else "Post-checks FAILED: " + "; ".join(done.post.differences[:3])
    )


def print_dev(console: Screen, result: Any) -> None:
    for step in result.applied:
        console.print(f"  applied {step.revision}  ({step.duration_ms:.0f} ms)")
    if result.path is None:
        console.print("No changes: the database matches the models.")
        return
    if result.steps:
        console.print(
            "In steps, so no populated table is locked for more than a catalog change:", markup=False
        )
        for line in result.recipes:
            console.print(f"  {line}", markup=False)
        for step in result.steps:
            phase = f" [{step['phase']}]" if step["phase"] else ""
            filled = f", backfill {'; '.join(step['backfills'])}" if step["backfills"] else ""
            console.print(
                f"Wrote {step['path']}{phase} ({step['statements']} statement(s){filled}).", markup=False
            )
    else:
        console.print(f"Wrote {result.path} ({len(result.statements)} statement(s)).")
    for warning in result.warnings:
        console.print(f"  lint: {warning}")
    if result.destructive:
        console.print(f"  its downgrade {'; '.join(result.destructive)}")


def print_squash(console: Screen, result: Any) -> None:
    verb = "Would write" if result.dry_run else "Wrote"
    console.print(
        f"{verb} the baseline {result.path.name}: {result.statements} statement(s) building "
        f"{result.objects} tables, types and functions, proved equal to what the {len(result.replaced)} "
        "revisions build.",
        markup=False,
    )
    gone = "would be removed" if result.dry_run else "removed (version control keeps them)"
    console.print(f"  replaced files {gone}: " + ", ".join(p.name for p in result.removed), markup=False)
    if not result.dry_run:
        console.print(
            "  A database that applied them is at the baseline already; `migrate validate` accepts it.",
            markup=False,
        )
