"""`restore remote-restore` (and the guide's `s3-restore`): a backup and its manifest downloaded from any
remote storage into a private folder, then restored exactly as a local file is (proved first, confirmed,
the target backed up, one checked transaction)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from mandala_db.core.blockers import LockPolicy
from mandala_db.core.database import Database
from mandala_db.core.owner import sweep_temp_dirs, temp_dir
from mandala_db.core.progress import Bars, no_bars
from mandala_db.ops.backup.remote import download, locate
from mandala_db.ops.restore.apply import RestoreResult, check_target_name, restore


def restore_from_remote(
    db: Database,
    url: str,
    *,
    target_db: str | None,
    backup_dir: Path,
    confirm: Callable[[str], None],
    bars: Bars = no_bars,
    locks: LockPolicy = LockPolicy(),
) -> RestoreResult:
    check_target_name(target_db)
    _, key = locate(url)  # a URL that names no backup is refused before anything starts
    sweep_temp_dirs("remote-restore")  # the download a killed restore left behind
    sweep_temp_dirs("s3-restore")  # (its name before the seam)
    workdir = temp_dir("remote-restore")
    try:
        with bars(0, f"download {Path(key).name}") as bar:
            path = download(url, workdir, bar.bytes if bar else None)
        return restore(
            db, path, target_db=target_db, backup_dir=backup_dir, confirm=confirm, bars=bars, locks=locks
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
