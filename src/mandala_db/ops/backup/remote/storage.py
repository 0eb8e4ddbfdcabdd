"""What every backup storage does: the protocol `ops.backup.remote` drives, and what it raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

BytesProgress = Callable[[int], None]


class MissingObject(Exception):
    """The storage holds no object under the key."""


class Storage(Protocol):
    """The objects of one storage under its root URL. Keys are relative to the root, `/`-separated."""

    root: str  # e.g. s3://bucket/prefix, file:///mnt/backups

    def url(self, key: str) -> str: ...

    def put(
        self, key: str, source: Path, sha256: str, progress: BytesProgress | None = None
    ) -> dict[str, Any]:
        """Store the file, then prove the stored object is the file (its SHA-256 by what the storage
        computed, or the object read back); a mismatch raises. What it returns goes into the manifest:
        at least `checked_by`."""
        ...

    def get(self, key: str, target: Path, progress: BytesProgress | None = None) -> None:
        """The object into the file; MissingObject when there is none."""
        ...

    def read(self, key: str) -> bytes: ...

    def write(self, key: str, data: bytes) -> None: ...

    def sizes(self) -> dict[str, int]:
        """Every finished object under the root, by key, with its size."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def abort(self, key: str) -> list[str]:
        """Unfinished uploads of the key (by any run that is gone, or by this one) removed, each said."""
        ...
