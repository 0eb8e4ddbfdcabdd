"""What every command needs from the invocation: its settings, its database, and human-sized numbers."""

from __future__ import annotations

import os
from pathlib import Path

from mandala_db.core.config import DatabaseURL, Settings

_resolved: Settings | None = None


def install(settings: Settings) -> None:
    """The settings the global callback resolved from the options and the environment, once a run."""
    global _resolved
    _resolved = settings


def resolved() -> Settings | None:
    """The run's settings, or None when the callback has not run (bad usage, --help)."""
    return _resolved


def command_settings(command: str) -> Settings:
    """The global options, with the command named: every connection says `mandala-db:<command>`."""
    assert _resolved is not None, "the global callback has not run"
    _resolved.command = command
    return _resolved


def database_url(settings: Settings) -> DatabaseURL:
    """The URL given, or the embedded server (started on demand and announced in one line)."""
    if settings.database_url is not None:
        return settings.database_url
    from mandala_db.core.embedded import ensure_embedded

    settings.database_url = ensure_embedded(settings.state_dir, announce=True)
    return settings.database_url


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def backup_dir(explicit: str | None) -> Path:
    """Where backups go: --dir/--backup-dir, else $BACKUP_DIR, else ./backups."""
    return Path(explicit or os.environ.get("BACKUP_DIR") or "backups")
