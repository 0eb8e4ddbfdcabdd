"""What an archive holds, read without a server: the pg_restore that can read it, and the digest of its
table of contents taken when it was written, which `verify` and `restore` compare to prove that the
archive still holds the objects it held then (a bit flipped in the table of contents, `public` become
`purlic`, passes `pg_restore -l` and every sha256 resealed after the damage)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.process import capture
from mandala_db.core.tools import ClientTool, find_client
from mandala_db.ops.backup.manifest import BackupManifest, file_entries

# pg_dump's header of every object in a plain script: "-- Name: users; Type: TABLE; Schema: public; ..."
_PLAIN_OBJECT = re.compile(rb"^-- (?:Data for )?Name: .*; Type: .*$", re.MULTILINE)
# Lines that differ between two readings of one archive: comments (dates, versions) and the random key
# of the \restrict guard newer pg_restore releases write.
_VOLATILE = (b";", b"--", b"\\restrict", b"\\unrestrict")


def restore_tool(manifest: BackupManifest) -> tuple[int, ClientTool]:
    """A pg_restore that can read this archive: at least as new as the pg_dump that wrote it."""
    dump_major = int(_major(manifest.pg_dump_version) or 0)
    try:
        return dump_major, find_client("pg_restore", dump_major)
    except OperationFailed as exc:
        raise OperationFailed(
            f"this backup was written by pg_dump {manifest.pg_dump_version}, and pg_restore can only read archives "
            f"from its own version or older: {exc.message}",
            exc.hint,
        ) from None


def _stable_lines(text: bytes) -> list[bytes]:
    return [ln.rstrip() for ln in text.splitlines() if ln.strip() and not ln.startswith(_VOLATILE)]


def _major(version: str | None) -> str:
    m = re.search(r"(\d+)", version or "")
    return m.group(1) if m else ""


def archive_digests(path: Path, fmt: str, pg_restore: ClientTool | None) -> tuple[str, str | None]:
    """(toc, ddl): sha256 of what the archive says it holds. `toc` covers every table of contents entry
    (`pg_restore --list`, a format stable across releases) or, for a plain script, pg_dump's header line
    of every object; `ddl` covers every definition the table of contents carries (`--schema-only`, which
    reads no data), and is compared only by a pg_restore of the same major version, whose output it is."""
    if fmt == "plain":
        digest = hashlib.sha256()
        for m in _PLAIN_OBJECT.finditer(path.read_bytes()):
            digest.update(m.group(0).rstrip() + b"\n")
        return digest.hexdigest(), None
    assert pg_restore is not None
    out = []
    for args in (["--list"], ["--schema-only", "--file=-"]):
        code, text, last = capture([str(pg_restore.path), *args, str(path)])
        if code != 0:
            raise BadInput(
                f"{path} has an unreadable table of contents: {last or f'pg_restore exit {code}'}",
                "the archive is damaged; use another backup",
            )
        out.append(hashlib.sha256(b"\n".join(_stable_lines(text))).hexdigest())
    return out[0], out[1]


def check_toc(path: Path, manifest: BackupManifest) -> None:
    """The archive's table of contents against the digests recorded when it was written."""
    if manifest.toc_sha256 is None:
        return  # written before digests were recorded: the sha256 and the full read still apply
    pg_restore = None if manifest.format == "plain" else restore_tool(manifest)[1]
    toc, ddl = archive_digests(path, manifest.format, pg_restore)
    same_tool = pg_restore is not None and _major(manifest.toc_tool) == str(pg_restore.major)
    if toc != manifest.toc_sha256 or (same_tool and manifest.ddl_sha256 and ddl != manifest.ddl_sha256):
        raise BadInput(
            f"{path}: the objects it holds differ from those recorded when it was written",
            "the archive was damaged or changed; use another backup",
        )


def check_files(path: Path, manifest: BackupManifest) -> None:
    """Every file's sha256 against the manifest: truncation and bit flips are caught before anything else."""
    if not path.exists():
        raise BadInput(f"{path} does not exist")
    actual = file_entries(path)
    if path.is_file() and len(manifest.files) == 1:
        # A single-file backup may have been renamed or copied elsewhere: its bytes are what count.
        actual = {next(iter(manifest.files)): next(iter(actual.values()))}
    if set(actual) != set(manifest.files):
        missing = sorted(set(manifest.files) - set(actual))
        extra = sorted(set(actual) - set(manifest.files))
        raise BadInput(
            f"{path} does not match its manifest (missing {missing or 'none'}, unexpected {extra or 'none'})",
            "this backup is incomplete; use another one",
        )
    for name, entry in manifest.files.items():
        if actual[name]["size"] != entry["size"]:
            raise BadInput(
                f"{name} is {actual[name]['size']:,} bytes, its manifest says {entry['size']:,}: "
                "the file is truncated or was changed",
                "use another backup",
            )
        if actual[name]["sha256"] != entry["sha256"]:
            raise BadInput(
                f"{name} fails its sha256 check: the file is corrupt or was changed", "use another backup"
            )


def prove_toc(path: Path, manifest: BackupManifest) -> dict[str, object]:
    """Every file's sha256 and the table of contents against what was recorded when the backup was written,
    recorded in its manifest as a verification (`kind: toc`): what `migrate prod` proves of its backup
    before it deploys. Raises (BadInput) when either differs; the failure is recorded too."""
    import time
    from datetime import UTC, datetime

    started = time.perf_counter()
    entry: dict[str, object] = {"at": datetime.now(UTC).isoformat(), "kind": "toc"}
    try:
        check_files(path, manifest)
        check_toc(path, manifest)
        entry["ok"] = True
    except BadInput as exc:
        entry.update(ok=False, problems=[exc.message])
        raise
    finally:
        if "ok" in entry:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            manifest.verifications.append(entry)
            manifest.save(path)
    return entry
