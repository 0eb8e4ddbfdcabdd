"""`restore s3-restore`: a backup and its manifest downloaded into a private folder, then restored exactly
as a local file is (proved first, confirmed, the target backed up, one checked transaction)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from mandala_db.core.blockers import LockPolicy
from mandala_db.core.database import Database
from mandala_db.core.owner import sweep_temp_dirs, temp_dir
from mandala_db.core.progress import Bars, no_bars
from mandala_db.ops.backup.s3 import S3Location, S3Store
from mandala_db.ops.restore.apply import RestoreResult, check_target_name, restore


def restore_from_s3(
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
    location = S3Location.parse(url)
    sweep_temp_dirs("s3-restore")  # the download a killed restore left behind
    workdir = temp_dir("s3-restore")
    try:
        with bars(0, f"download {Path(location.key).name}") as bar:
            path = S3Store(location.bucket).download(location, workdir, bar.bytes if bar else None)
        return restore(
            db, path, target_db=target_db, backup_dir=backup_dir, confirm=confirm, bars=bars, locks=locks
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
