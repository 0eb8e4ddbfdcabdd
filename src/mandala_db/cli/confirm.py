"""The only place that asks the user anything. Never hangs: without a terminal it refuses (exit 3)."""

from __future__ import annotations

import typer

from mandala_db.core.errors import Refused
from mandala_db.core.settings import Settings


def confirm(settings: Settings, action: str, *, typed: str | None = None) -> None:
    """Go ahead only with --yes, or with an explicit answer typed at a terminal."""
    if settings.assume_yes:
        return
    if not settings.interactive:
        raise Refused(
            f"{action}: refused without confirmation in a non-interactive shell", "pass --yes to confirm"
        )
    if typed is not None:
        answer = typer.prompt(f"{action}.\nType {typed!r} to confirm", default="", show_default=False)
        if answer.strip() != typed:
            raise Refused(f"{action}: not confirmed (expected {typed!r})")
    elif not typer.confirm(f"{action}. Continue?", default=False):
        raise Refused(f"{action}: not confirmed")


# Under every command that asks: --yes is a global option, and accepted after the subcommand too.
YES_EPILOG = (
    "Confirm with --yes (or -y), before or after the command; without it, off a terminal, the command is "
    "refused (exit 3)."
)
