"""`mandala-db pitr setup|status`: physical backups and point-in-time recovery through pgBackRest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer

from mandala_db.cli.context import database, settings_for
from mandala_db.cli.output import Output, Screen

app = typer.Typer(help="Physical backups and point-in-time recovery (pgBackRest).", no_args_is_help=True)

StanzaOption = Annotated[str, typer.Option("--stanza", help="pgBackRest's name for this cluster.")]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="The pgBackRest configuration (default: under the state folder, per stanza)."
    ),
]


def _config(s: Any, stanza: str, config: Path | None) -> Path:
    from mandala_db.ops.pitr.setup import default_config

    return config.resolve() if config else default_config(s.state_dir, stanza)


def existing_config(s: Any, stanza: str, config: Path | None) -> Path:
    """The stanza's configuration, which `pitr setup` wrote: bad input when it is not there."""
    from mandala_db.core.errors import BadInput

    path = _config(s, stanza, config)
    if not path.exists():
        raise BadInput(f"no pgBackRest configuration for stanza {stanza} at {path}",
                       f"run `mandala-db pitr setup --stanza {stanza}` first, or give --config")  # fmt: skip
    return path


@app.command("setup")
def setup(
    ctx: typer.Context,
    stanza: StanzaOption,
    repo: Annotated[
        str, typer.Option("--repo", help="The repository: a folder, or s3://bucket/prefix.")
    ] = "/var/lib/pgbackrest",
    config: ConfigOption = None,
    s3_endpoint: Annotated[
        str | None, typer.Option("--s3-endpoint", help="An S3-compatible endpoint (https://host:port).")
    ] = None,
) -> None:
    """Check archiving, write the configuration, create the stanza and prove a WAL segment reaches the repository."""
    from mandala_db.ops.pitr.setup import setup as run_setup

    s = settings_for(ctx, "pitr setup")
    done = run_setup(database(s), stanza, repo, _config(s, stanza, config), s3_endpoint=s3_endpoint)

    def human(console: Screen) -> None:
        console.print(f"Stanza {done.stanza} ready: repository {done.repo}, configuration {done.config}",
                      markup=False)  # fmt: skip
        if done.archive_command_set:
            console.print("  archive_command set (ALTER SYSTEM, reloaded)", markup=False)
        for line in done.checks:
            console.print(f"  {line}", markup=False)

    Output(s).result({"ok": True, **done.to_dict()}, human)


@app.command("status")
def status(ctx: typer.Context, stanza: StanzaOption, config: ConfigOption = None) -> None:
    """The backups, the WAL archived up to when (how far a restore could reach now), archive failures."""
    from mandala_db.ops.pitr.setup import configured
    from mandala_db.ops.pitr.status import status as read_status

    s = settings_for(ctx, "pitr status")
    path = existing_config(s, stanza, config)
    db = database(s)
    st = read_status(db, configured(db, stanza, path))  # the repository: as the configuration names it

    def human(console: Screen) -> None:
        console.print(
            f"Stanza {st.stanza}: repository {'ok' if st.repo_ok else st.repo_message}", markup=False
        )
        if not st.backups:
            console.print("  no backups yet", markup=False)
        for b in st.backups:
            console.print(f"  {b.label}  {b.type:<4}  {b.stopped:%Y-%m-%d %H:%M:%S} UTC  {b.size:,} bytes "
                          f"({b.stored:,} stored)  WAL {b.wal[0]}..{b.wal[1]}", markup=False)  # fmt: skip
        point = f"{st.archived_at:%Y-%m-%d %H:%M:%S %Z}" if st.archived_at else "nothing archived yet"
        console.print(
            f"  WAL archived up to {st.archived_wal or '-'}: a restore could reach {point}", markup=False
        )
        if st.failed:
            console.print(f"  archive failures: {st.failed} (last {st.last_failed_wal} at {st.last_failed_at})",
                          markup=False)  # fmt: skip

    Output(s).result({"ok": st.repo_ok and not st.failed, **st.to_dict()}, human)


def restore_pitr(
    ctx: typer.Context,
    stanza: StanzaOption,
    target_dir: Annotated[
        Path, typer.Option("--target-dir", help="A new folder: the copy's data directory.")
    ],
    to_time: Annotated[
        str | None,
        typer.Option("--to-time", help="Recover up to this moment (e.g. '2026-12-06 21:30:00+00')."),
    ] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Recover to the end of the archived WAL.")] = False,
    to_revision: Annotated[
        str | None,
        typer.Option(
            "--to-revision", help="Recover to just before this revision's deploy (from the run ledger)."
        ),
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="The copy's port (default: a free one).")] = None,
    config: ConfigOption = None,
) -> None:
    """A physical backup restored into a new data directory, started on its own port and recovered to a moment
    (--to-time), to just before a revision's deploy (--to-revision) or to the end of the archive (--latest).
    The live cluster is never touched."""
    import socket

    from mandala_db.core.errors import BadInput
    from mandala_db.ops.migrate.loader import History
    from mandala_db.ops.pitr.restore import before_deploy, restore, server_bindir
    from mandala_db.ops.pitr.setup import configured, server_facts

    if sum((to_time is not None, latest, to_revision is not None)) != 1:
        raise BadInput("give exactly one of --to-time TIMESTAMP, --to-revision REV and --latest",
                       "e.g. --to-time '2026-12-06 21:30:00+00'")  # fmt: skip
    s = settings_for(ctx, "restore pitr")
    path = existing_config(s, stanza, config)
    db = database(s)
    major = int(server_facts(db)["version_num"]) // 10000
    if port is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
    expected = None
    if to_revision is not None:
        rev = History.load().named(to_revision)
        with db.connect() as conn:
            to_time = before_deploy(conn, rev.id)
        expected = rev.down_revision
    done = restore(configured(db, stanza, path), server_bindir(major), target_dir.resolve(), port,
                   to_time=to_time, exclusive=to_revision is not None)  # fmt: skip
    if to_revision is not None and done.revision != expected:
        from mandala_db.core.errors import CheckFailed

        raise CheckFailed(f"the copy on port {done.port} is at revision {done.revision or 'none'}, not "
                          f"{expected or 'base'} (the one before {to_revision})",
                          f"inspect it at {done.data_dir}, then drop it")  # fmt: skip

    def human(console: Screen) -> None:
        console.print(f"Recovered {done.target} into {done.data_dir}, serving on port {done.port} "
                      f"(socket {done.url.params[0][1]}); the live cluster was not touched.", markup=False)  # fmt: skip
        console.print(f"  last transaction replayed: {done.last_replayed or 'none after the backup'}; "
                      f"revision {done.revision or '-'}", markup=False)  # fmt: skip
        console.print(f"  {done.seconds:.1f} s: restore {done.restore_seconds:.1f} s, WAL replay "
                      f"{done.replay_seconds:.1f} s", markup=False)  # fmt: skip

    Output(s).result({"ok": True, **done.to_dict()}, human)


def physical_backup(s: Any, kind: str, stanza: str, config: Path | None, directory: str | None) -> None:
    """`backup full|diff|incr --engine pgbackrest`: the backup, then its manifest beside the logical ones."""
    from mandala_db.ops.pitr.backup import PhysicalKind, take
    from mandala_db.ops.pitr.setup import configured

    path = existing_config(s, stanza, config)
    db = database(s)
    done = take(db, configured(db, stanza, path), cast("PhysicalKind", kind), s.backups_in(directory))

    def human(console: Screen) -> None:
        depends = f", on top of {done.prior}" if done.prior else ""
        console.print(f"pgBackRest {done.type} backup {done.label}{depends}: {done.size:,} bytes, {done.stored:,} "
                      f"stored, in {done.duration_ms / 1000:.1f} s; WAL {done.wal_start}..{done.wal_stop}", markup=False)  # fmt: skip
        console.print(
            f"  at revision {done.head_revision or '-'}; manifest beside the logical backups", markup=False
        )

    Output(s).result({"ok": True, "backup": done.to_dict()}, human)


def print_physical(console: Screen, backups: list[Any]) -> None:
    """The physical backups' section of `restore list`."""
    if not backups:
        return
    console.print("Physical backups (pgBackRest):", markup=False)
    for m in backups:
        console.print(f"  {m.stanza}/{m.label}  {m.type:<4}  {m.finished_at[:19]}  {m.size:,} bytes ({m.stored:,} stored)"
                      f"  revision {m.head_revision or '-'}" + (f"  on {m.prior}" if m.prior else ""), markup=False)  # fmt: skip


def physical_stats(backups: list[Any]) -> dict[str, Any]:
    """Count, stored size and newest per type, for `backup stats`."""
    out: dict[str, Any] = {}
    for m in backups:
        entry = out.setdefault(m.type, {"count": 0, "stored": 0, "newest": m.finished_at})
        entry["count"] += 1
        entry["stored"] += m.stored
        entry["newest"] = max(entry["newest"], m.finished_at)
    return out


def physical_cleanup(s: Any, stanza: str, config: Path | None, folder: Path, *, keep: int, days: int,
                     dry_run: bool) -> None:  # fmt: skip
    """`backup cleanup --engine pgbackrest`: pgBackRest's expire under the same retention, asked first."""
    from mandala_db.cli.confirm import confirm
    from mandala_db.ops.pitr.backup import expire
    from mandala_db.ops.pitr.setup import configured

    path = existing_config(s, stanza, config)
    db = database(s)
    target = configured(db, stanza, path)
    plan = expire(target, folder, keep=keep, retention_days=days, dry_run=True)
    done = plan
    if plan.removed and not dry_run:
        confirm(
            s, f"Expire {len(plan.removed)} pgBackRest backup(s) of stanza {stanza} older than {days} days"
        )
        done = expire(target, folder, keep=keep, retention_days=days, dry_run=False)

    def human(console: Screen) -> None:
        verb = "would expire" if dry_run else "expired"
        console.print(f"pgBackRest {verb} {len(done.removed)} backup(s) of stanza {stanza} "
                      f"(older than {days} days, the newest {keep} full ones kept): "
                      + (", ".join(done.removed) or "none"), markup=False)  # fmt: skip

    Output(s).result({"ok": True, "retention_days": days, "keep": keep, **done.to_dict()}, human)
