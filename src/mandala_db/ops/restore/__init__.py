"""Restores and verification: `restore` (and so `remote-restore`), `verify`, and the restore into a scratch
database that `verify --restore` and drills use. Every restore is one transaction of ours, committed only
when the archive was read to its end and the result matches its manifest; nothing in a backup can make
psql run a command on this machine."""

from mandala_db.ops.restore.apply import (
    RestoreResult,
    check_target_name,
    prove,
    restore,
    restore_into_new_database,
    user_tables,
)
from mandala_db.ops.restore.guard import ScriptGuard, ScriptRefused, scan_file
from mandala_db.ops.restore.remote import restore_from_remote
from mandala_db.ops.restore.scratch import drop_leftover_scratch, scratch_name, scratch_prefix
from mandala_db.ops.restore.session import CHECK_MARKER
from mandala_db.ops.restore.verify import read_all, verify

__all__ = [
    "CHECK_MARKER",
    "RestoreResult",
    "ScriptGuard",
    "ScriptRefused",
    "check_target_name",
    "drop_leftover_scratch",
    "prove",
    "read_all",
    "restore",
    "restore_from_remote",
    "restore_into_new_database",
    "scan_file",
    "scratch_name",
    "scratch_prefix",
    "user_tables",
    "verify",
]
