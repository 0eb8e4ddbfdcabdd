"""What every command needs from the invocation: its settings, its database, and human-sized numbers."""

from __future__ import annotations

import os
from pathlib import Path

from mandala_db.core.config import DatabaseURL, Settings


def command_settings(command: str) -> Settings:
    """The global options, with the command named: every connection says `mandala-db:<command>`."""
    from mandala_db.cli import settings

    current = settings()
    current.command = command
    return current


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
