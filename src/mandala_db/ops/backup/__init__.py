"""Backups you can trust: consistent dumps with a manifest (sha256 of every file, the digest of the table
of contents, row counts, optionally signed), statistics and retention, and copies on a remote storage (`remote/`). `backup` is the command's
operation; `create_backup` is what other capabilities call (migrate prod, a destructive rollback, a
restore)."""

from mandala_db.ops.backup.archive import archive_digests, check_files, check_toc, prove_toc, restore_tool
from mandala_db.ops.backup.dump import Backup, DumpOptions, backup, create_backup, create_backups
from mandala_db.ops.backup.manifest import BackupManifest, file_entries, find_backups, listing, newest_trusted
from mandala_db.ops.backup.retention import CleanupPlan, apply_cleanup, cleanup_plan, leftovers, stats, sweep

__all__ = [
    "Backup",
    "BackupManifest",
    "CleanupPlan",
    "DumpOptions",
    "apply_cleanup",
    "archive_digests",
    "backup",
    "check_files",
    "check_toc",
    "cleanup_plan",
    "create_backup",
    "create_backups",
    "file_entries",
    "find_backups",
    "leftovers",
    "listing",
    "newest_trusted",
    "prove_toc",
    "restore_tool",
    "stats",
    "sweep",
]
