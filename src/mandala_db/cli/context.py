"""What every command needs from the invocation: its settings (carried on Typer's context), its database,
and human-sized numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from mandala_db.core.settings import Settings

if TYPE_CHECKING:
    from mandala_db.core.database import Database
    from mandala_db.ops.monitor import Monitor


@dataclass
class Invocation:
    """The object on Typer's root context: the global callback fills in the settings; `main` reads them
    back to report an error in the format the user asked for."""

    settings: Settings | None = None
    monitor: Monitor | None = None
    # Before the settings are resolved (and when they cannot be): how to report the error that stopped them.
    log_format: str = "text"
    json_output: bool = False

    def start_monitor(self, settings: Settings, command: str) -> None:
        """The metrics and alert sinks the settings ask for, on the event stream, for this run."""
        m = settings.monitor
        if not (m.metrics or m.pushgateway or m.alerting):
            return
        from mandala_db.core.events import bus
        from mandala_db.ops.monitor import Monitor

        def where() -> str:
            return settings.database_url.render() if settings.database_url else "the embedded PostgreSQL"

        self.monitor = Monitor(
            m,
            environment=settings.environment.value,
            command=command,
            database=where,
            state_dir=settings.state_dir,
            stdout_taken=settings.json_output,
        )
        bus.sinks.extend(self.monitor.sinks)


def settings_for(ctx: typer.Context, command: str) -> Settings:
    """The run's settings, with the command named: every connection says `mandala-db:<command>`."""
    invocation = ctx.find_root().obj
    assert isinstance(invocation, Invocation) and invocation.settings is not None, "no global callback"
    invocation.settings.command = command
    return invocation.settings


def database(settings: Settings) -> Database:
    """The URL given, or the embedded server (started on demand and announced in one line)."""
    from mandala_db.core.database import Database

    url = settings.database_url
    if url is None:
        if settings.environment.protected:
            from mandala_db.core.errors import BadInput

            raise BadInput(
                f"no database URL in {settings.environment.value}: the embedded server is for development "
                "and test only",
                "set DATABASE_URL (or pass --database-url) to the database this command is for",
            )
        from mandala_db.core.embedded import ensure_embedded

        url = settings.database_url = ensure_embedded(settings.state_dir, announce=True)
    return Database(url, settings.application_name)


def database_at(settings: Settings, raw_url: str) -> Database:
    """Another database named on the command line (`--timings-from`): its password is a secret too."""
    from mandala_db.core.database import Database
    from mandala_db.core.events import bus
    from mandala_db.core.url import DatabaseURL

    for secret in DatabaseURL.raw_secrets(raw_url):
        bus.add_secret(secret)
    return Database(DatabaseURL.parse(raw_url), settings.application_name)


def ship_backup(settings: Settings) -> Callable[[Any], None] | None:
    """With a remote configured (BACKUP_REMOTE, S3_BACKUP_BUCKET), the backup a command takes first is
    copied (and checked) there too."""
    url = settings.remote()
    if not url:
        return None
    from mandala_db.ops.backup.remote import Remote

    remote = Remote.at(url)  # a remote that cannot be is refused before anything is backed up

    def upload(backup: Any) -> None:
        remote.upload(backup.path, backup.manifest)

    return upload


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
