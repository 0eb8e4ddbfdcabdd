"""`mandala-db drill` and `drill history`: parses, prints. The work is in mandala_db.ops.drill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mandala_db.cli.context import database, settings_for
from mandala_db.cli.output import Output, Screen
from mandala_db.core.durations import duration_seconds
from mandala_db.core.errors import BadInput

app = typer.Typer(help="Recovery rehearsed and measured: restore the newest good backup into a scratch database.",
                  invoke_without_command=True)  # fmt: skip


@app.callback()
def drill_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="latest (default), a backup file, or a remote backup's URL (s3://bucket/key, file:///path).",
        ),
    ] = "latest",
    directory: Annotated[
        str | None, typer.Option("--dir", help="The backup folder (default $BACKUP_DIR).")
    ] = None,
    rto_target: Annotated[
        str | None, typer.Option("--rto-target", help="Exit 5 when recovery takes longer (e.g. 15min).")
    ] = None,
    max_backup_age: Annotated[
        str | None, typer.Option("--max-backup-age", help="Exit 5 when the backup is older (e.g. 26h).")
    ] = None,
    rehearse: Annotated[
        bool, typer.Option("--rehearse", help="Apply the pending revisions to the copy and roll them back.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a Markdown report (audit evidence) here.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine", help="pg_dump (the newest logical backup) or pgbackrest (the newest physical one)."
        ),
    ] = "pg_dump",
    stanza: Annotated[
        str | None, typer.Option("--stanza", help="With --engine pgbackrest: the stanza.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="With --engine pgbackrest: its configuration (default: per stanza)."),
    ] = None,
) -> None:
    """Fetch, prove, restore into a scratch database, check, measure RTO and RPO, record; the scratch database
    is dropped whatever happens."""
    if ctx.invoked_subcommand is not None:
        return
    from mandala_db.ops.drill import drill, report_markdown

    s = settings_for(ctx, "drill")
    target = duration_seconds("--rto-target", rto_target) if rto_target else None
    age = duration_seconds("--max-backup-age", max_backup_age) if max_backup_age else None
    if engine == "pgbackrest":
        result = _physical(s, stanza, config, s.backups_in(directory), target, age)
    elif engine != "pg_dump":
        raise BadInput(f"--engine {engine!r} is not an engine", "use pg_dump or pgbackrest")
    else:
        result = drill(database(s), source=source, backup_dir=s.backups_in(directory), remote=s.remote(),
                       rto_target=target, max_backup_age=age, rehearse=rehearse)  # fmt: skip
    if report:
        report.write_text(report_markdown(result), encoding="utf-8")
    Output(s).result(result.to_dict(), lambda c: _print(c, result.to_dict()))
    failure = result.failure()
    if failure is not None:
        raise failure


def _physical(s: Any, stanza: str | None, config: Path | None, folder: Path, target: float | None,
              age: float | None) -> Any:  # fmt: skip
    from mandala_db.cli.pitr import existing_config
    from mandala_db.ops.pitr.drill import physical_drill
    from mandala_db.ops.pitr.restore import server_bindir
    from mandala_db.ops.pitr.setup import configured, server_facts

    if not stanza:
        raise BadInput("drill --engine pgbackrest needs --stanza", "the stanza `pitr setup` created")
    path = existing_config(s, stanza, config)
    db = database(s)
    bindir = server_bindir(int(server_facts(db)["version_num"]) // 10000)
    return physical_drill(
        db, configured(db, stanza, path), bindir, folder, rto_target=target, max_backup_age=age
    )


def _print(console: Screen, doc: dict[str, Any]) -> None:
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in doc["phases_s"].items())
    console.print(f"Drill {'passed' if doc['ok'] else 'FAILED'}: {doc['backup']}", markup=False)
    console.print(f"  RTO {doc['rto_s']:.2f} s ({phases}); RPO {doc['rpo_s']:.0f} s", markup=False)
    for step in doc["rehearsal"]:
        console.print(
            f"  rehearsed {step['direction']} {step['revision']} in {step['duration_ms']:.0f} ms",
            markup=False,
        )
    what = "cluster" if doc["backup"].startswith("pgbackrest:") else "database"
    console.print(f"  scratch {what} {doc['scratch_database']} {'removed' if what == 'cluster' else 'dropped'}",
                  markup=False)  # fmt: skip


@app.command("history")
def history_command(
    ctx: typer.Context,
    directory: Annotated[
        str | None, typer.Option("--dir", help="The backup folder (default $BACKUP_DIR).")
    ] = None,
) -> None:
    """Every drill recorded beside the backups: when, which backup, RTO, RPO, result."""
    from mandala_db.ops.drill import history

    s = settings_for(ctx, "drill history")
    drills = history(s.backups_in(directory))

    def human(console: Screen) -> None:
        for d in drills:
            state = "passed" if d["ok"] else "FAILED: " + "; ".join(d["problems"][:2])
            console.print(f"{d['started_at'][:19]}  RTO {d['rto_s']:.2f} s  RPO {d['rpo_s']:.0f} s  {state}  {d['backup']}",
                          markup=False)  # fmt: skip
        if not drills:
            console.print("No drill recorded yet: run `mandala-db drill`.")

    Output(s).result({"ok": True, "drills": drills}, human)
