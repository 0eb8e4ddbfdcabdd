"""Whose is this leftover? Everything a run makes that must not outlive it (a temp folder, a download, a
scratch database, an upload) carries the pid of the process that made it, so that the next run can tell a
leftover of a killed run (its owner gone: removed, and said in one line) from the work of a run going on
beside it (its owner alive: left alone). A reused pid only makes a leftover wait longer, never removes
the work of a live run."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from mandala_db.core.events import bus

TEMP_PREFIX = "mandala-db-"


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts as gone: it runs nothing any more)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def temp_dir(purpose: str) -> Path:
    """A private folder in the temp directory, named after its purpose and the pid that owns it."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{purpose}-{os.getpid()}-"))


def sweep_temp_dirs(purpose: str) -> list[Path]:
    """The temp folders of this purpose whose owner is gone: removed, each said in one line."""
    pattern = re.compile(rf"^{re.escape(TEMP_PREFIX + purpose)}-(\d+)-")
    removed = []
    try:
        entries = list(Path(tempfile.gettempdir()).iterdir())
    except OSError:
        return []
    for path in entries:
        m = pattern.match(path.name)
        if not m or alive(int(m.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
            bus.warning(
                "leftover_removed",
                f"removed {path}, left by a {purpose} (pid {m.group(1)}) that did not finish",
                path=str(path),
            )
    return removed


def pid_suffix(name: str) -> int | None:
    """The pid a name ends with (`..._12345`), if it does."""
    tail = name.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None
