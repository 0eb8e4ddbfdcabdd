"""How the commands show their results to a person: tables, plans, runs, backups. Rendering only; the
JSON documents are the results' own `to_dict`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mandala_db.cli.context import human_size
from mandala_db.cli.output import Screen, print_table

if TYPE_CHECKING:
    from mandala_db.ops.migrate.executor import RunResult


def print_run(console: Screen, result: RunResult, verb: str) -> None:
    if not result.steps:
        console.print(f"Nothing to {verb}: the database is at {result.after or 'base (empty)'}.")
        return
    for step in result.steps:
        console.print(f"  {step.direction:9} {step.revision}  ({step.duration_ms:.0f} ms)")
    console.print(
        f"{len(result.steps)} revision(s) done; the database is now at {result.after or 'base (empty)'}."
    )


def run_dict(result: RunResult) -> dict[str, Any]:
    return {
        "ok": True,
        "before": result.before,
        "current": result.after,
        "steps": [s.to_dict() for s in result.steps],
        "interrupted_runs_found": result.interrupted,
    }


def print_report(console: Screen, found: Any) -> None:
    """`migrate status VIEW`: each section the view asked for, in order."""
    if found.connection is not None:
        print_connection(console, found.connection)
    if found.status is not None:
        print_status(console, found.status)
    if found.schema is not None:
        print_schema(console, found.schema)
    if found.history is not None:
        print_history(console, found.history)


def print_connection(console: Screen, r: dict[str, Any]) -> None:
    console.print(f"Connected to {r['url']} in {r['connect_ms']:.0f} ms")
    console.print(
        f"  PostgreSQL {r['server_version']}, database {r['database']}, user {r['user']}, "
        f"schema {r['schema']}, ssl {'on (' + str(r['ssl_version']) + ')' if r['ssl'] else 'off'}"
    )
    console.print(
        f"  statement_timeout {r['statement_timeout']}, lock_timeout {r['lock_timeout']}, "
        f"round trip {r['round_trip_ms']} ms"
    )


def print_status(console: Screen, st: Any) -> None:
    console.print(f"Current revision: {st.current or 'base (empty)'}")
    console.print(f"Head revision:    {st.head or '(no revisions)'}")
    if st.pending:
        console.print(f"{len(st.pending)} pending revision(s):")
        for rev in st.pending:
            phase = f"  [{rev.phase}{': waits for deploy --contract' if rev.phase == 'contract' else ''}]"
            console.print(f"  {rev.id}  {rev.title}" + (phase if rev.phase else ""))
    else:
        console.print("The database is up to date.")
    drift = {
        "none": "schema matches the fingerprint recorded at " + str(st.recorded_at),
        "drift": "DRIFT: the schema differs from the fingerprint recorded at "
        + str(st.recorded_at)
        + " (run `migrate validate`)",
        "unknown": "no fingerprint recorded for this revision to compare with"
        + (f" (the last was recorded at {st.recorded_at})" if st.recorded_at else ""),
        "locked": "not checked: another session holds a lock on a table (try again)",
    }[st.drift]
    console.print(f"Drift: {drift}")
    if st.last_failure:
        f = st.last_failure
        console.print(
            f"Last attempt {f.status}: {f.revision} ({f.direction}) at {f.started_at:%Y-%m-%d %H:%M:%S}: "
            f"{f.error}"
        )
    if st.archived:
        console.print(f"Rows kept from downgrades, restored by the next upgrade: {', '.join(st.archived)}")


def print_schema(console: Screen, schema: dict[str, Any]) -> None:
    rows = [
        [t["name"], f"{t['rows_estimate']:,}", human_size(t["size_bytes"]), str(t["columns"]),
         str(len(t["indexes"])), str(len(t["constraints"]))]
        for t in schema["tables"]
    ]  # fmt: skip
    columns = ["table", "rows (est.)", "size", "columns", "indexes", "constraints"]
    print_table(console, f"Schema {schema['schema']} (fingerprint {schema['fingerprint'][:12]})", columns, rows,
                whole=("table",), right=tuple(columns[1:]))  # fmt: skip
    console.print("Enums: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in sorted(schema["enums"].items())))


def print_history(console: Screen, rows: list[Any]) -> None:
    if not rows:
        console.print("No migration attempts recorded yet.")
        return
    columns = ["started", "revision", "direction", "result", "ms", "tables", "user", "checksum", "error"]
    table = [
        [f"{r.started_at:%Y-%m-%d %H:%M:%S}", r.revision, r.direction, r.status,
         f"{r.duration_ms:.0f}" if r.duration_ms is not None else "", ", ".join(r.tables or []), r.db_user,
         (r.file_checksum or "")[:12], (r.error or "")[:80]]
        for r in rows
    ]  # fmt: skip
    print_table(console, "Migration attempts (newest first)", columns, table, whole=("revision", "tables"))


def print_applied(console: Screen, entries: list[Any]) -> None:
    if not entries:
        console.print("No revisions are applied.")
    for e in entries:
        flag = (
            f"  [destructive: {e.revision.destructive_downgrade}]" if e.revision.destructive_downgrade else ""
        )
        console.print(f"  {e.revision.id}  {e.revision.title}{flag}")


def print_backup_stats(
    console: Screen, where: str, local: dict[str, Any], remote: dict[str, Any] | None, fresh: dict[str, Any]
) -> None:
    from rich.table import Table

    table = Table(title=f"Backups in {where}")
    for col in (
        "kind",
        "count",
        "size",
        "newest",
        "oldest",
        "last verified",
        *(["on S3"] if remote else []),
    ):
        table.add_column(col)
    for kind, st in local.items():
        row = [
            kind,
            str(st["count"]),
            human_size(st["total_size"]),
            str(st["newest"] or "-")[:19],
            str(st["oldest"] or "-")[:19],
            str(st["last_verified"] or "never")[:19],
        ]
        if remote:
            row.append(f"{remote[kind]['count']} ({human_size(remote[kind]['total_size'])})")
        table.add_row(*row)
    console.print(table)

    def age(seconds: int | None) -> str:
        return "none yet" if seconds is None else f"{seconds / 3600:.1f} h ago"

    console.print(
        f"Newest good full backup: {age(fresh['newest_good_backup_age_s'])}; "
        f"last passed drill: {age(fresh['last_passed_drill_age_s'])}"
    )


def print_backup_list(console: Screen, local: list[dict[str, Any]], remote: list[dict[str, Any]]) -> None:
    if not local and not remote:
        console.print("No backups found.")
        return
    rows = [
        [b["path"], b["kind"], b["started_at"][:19], human_size(b["size"]), str(b["head_revision"] or "-"),
         (f"{b['verified'][:19]} ({b['verified_by']})" if b["verified"] else "never")
         + ("" if b.get("good", True) else ", NOT GOOD")]
        for b in local
    ] + [
        [o["url"], str(o["kind"]), str(o["started_at"])[:19], human_size(o["size"]), str(o["head_revision"] or "-"),
         "yes" if o["verified"] else "never"]
        for o in remote
    ]  # fmt: skip
    columns = ["where", "kind", "taken", "size", "revision", "verified"]
    print_table(console, "Backups", columns, rows, whole=("where", "revision"))


def print_backups(console: Screen, backups: list[Any]) -> None:
    for b in backups:
        remote = b.manifest.remote
        where = f", copied to {remote['url']}" if remote else ""
        console.print(
            f"{b.manifest.kind}: {b.path} ({human_size(b.manifest.size)}, "
            f"{b.manifest.duration_ms / 1000:.1f} s, sha256 {b.to_dict()['sha256'] or 'per file'}){where}"
        )


def print_cleanup(console: Screen, plan: Any, dry_run: bool) -> None:
    verb = "would delete" if dry_run else "deleted"
    for path, manifest in plan.delete:
        console.print(f"{verb} {path} ({manifest.started_at[:10]})")
    from mandala_db.ops.backup.retention import leftover_reason

    for path in plan.leftovers:
        console.print(f"{verb} {path} ({leftover_reason(path)}, its run gone)")
    console.print(f"{len(plan.delete) + len(plan.leftovers)} {verb}, {len(plan.keep)} kept")
