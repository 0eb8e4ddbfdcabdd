"""The error types of the tool; each carries the exit code of the CLI contract and a hint on what to do."""

from __future__ import annotations


class MandalaError(Exception):
    """A failure the user can act on: one clear line of what went wrong, and one of what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class OperationFailed(MandalaError):
    """The operation failed: database error, tool missing, I/O (exit 1)."""

    exit_code = 1


class BadInput(MandalaError):
    """Usage, a malformed URL, an unknown revision, an unreadable or corrupt file (exit 2)."""

    exit_code = 2


class Refused(MandalaError):
    """A safety guard said no: protected environment, no confirmation, a destructive step (exit 3)."""

    exit_code = 3


class LockNotObtained(MandalaError):
    """Another run holds the migration lock (exit 4)."""

    exit_code = 4


class CheckFailed(MandalaError):
    """A check found problems: drift, checksum mismatch, lint errors, pending with --check (exit 5)."""

    exit_code = 5
