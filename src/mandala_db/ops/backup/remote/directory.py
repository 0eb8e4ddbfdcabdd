"""A plain directory as a backup storage: `file:///mnt/backups/...`, a mounted NFS or SMB share (the common
on-premises target) or any other folder. An object is written under a hidden partial name, flushed to
disk, read back and hashed (what the share holds, not what was sent), and only then renamed into place:
a reader never sees half a file, and a partial file a killed run left is removed by the next one."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlparse

from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.ops.backup.remote.storage import BytesProgress, MissingObject

_BLOCK = 1 << 20
_PARTIAL = ".partial-"


def _folder(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost"):
        raise BadInput(
            f"{url!r} names a host ({parsed.netloc}): a file URL is a folder on this machine",
            "mount the share and write file:///mount/point/folder",
        )
    path = Path(unquote(parsed.path))
    if not path.is_absolute() or not parsed.path:
        raise BadInput(f"{url!r} is not an absolute folder", "write file:///absolute/folder")
    return path


class DirectoryStorage:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = "file://" + quote(str(folder))

    @classmethod
    def at(cls, url: str) -> DirectoryStorage:
        folder = _folder(url)
        # The mount point, or a folder above the storage's, must be there: a share that is not mounted
        # would otherwise silently fill the local disk under its mount point.
        if not folder.exists() and not folder.parent.is_dir():
            raise BadInput(f"{folder} does not exist", "create it, or mount the share it belongs to")
        return cls(folder)

    @classmethod
    def holding(cls, url: str) -> tuple[DirectoryStorage, str]:
        path = _folder(url)
        return cls(path.parent), path.name

    def _path(self, key: str) -> Path:
        path = (self.folder / key).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise BadInput(f"{key!r} is outside {self.folder}")
        return path

    def url(self, key: str) -> str:
        return f"{self.root}/{quote(key)}"

    def put(
        self, key: str, source: Path, sha256: str, progress: BytesProgress | None = None
    ) -> dict[str, Any]:
        def proved(partial: Path) -> None:
            actual = _sha256(partial)  # what the share holds now, read back
            if actual != sha256:
                raise OperationFailed(
                    f"{self.url(key)} does not match the local backup after the copy (sha256 {actual[:12]}…, "
                    f"the backup's is {sha256[:12]}…)",
                    "the copy was damaged (check the share); run the backup again",
                )

        def fill(out: BinaryIO) -> None:
            with source.open("rb") as src:
                _copy(src, out, progress)

        target = self._place(key, fill, proved)
        return {"path": str(target), "checked_by": "read-back"}

    def write(self, key: str, data: bytes) -> None:
        self._place(key, lambda out: out.write(data))

    def _place(
        self, key: str, fill: Callable[[BinaryIO], object], check: Callable[[Path], None] | None = None
    ) -> Path:
        """Written under a hidden partial name, flushed, (checked,) renamed into place and the rename made
        durable; on any failure the partial goes, and the object under its name is the old one or none."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}{_PARTIAL}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            with partial.open("wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
                # Drop the cached pages, so a read-back asks the disk or the file server.
                os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            if check is not None:
                check(partial)
            os.replace(partial, target)
            _sync_folder(target.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target

    def get(self, key: str, target: Path, progress: BytesProgress | None = None) -> None:
        path = self._path(key)
        if not path.is_file():
            raise MissingObject(self.url(key))
        with path.open("rb") as src, target.open("wb") as out:
            _copy(src, out, progress)

    def read(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise MissingObject(self.url(key))
        return path.read_bytes()

    def sizes(self) -> dict[str, int]:
        if not self.folder.is_dir():
            return {}
        return {
            p.relative_to(self.folder).as_posix(): p.stat().st_size
            for p in self.folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def abort(self, key: str) -> list[str]:
        """The partial copies of the key whose run is gone (or is this one)."""
        from mandala_db.core.owner import alive

        target, done = self._path(key), []
        for partial in target.parent.glob(f".{target.name}{_PARTIAL}*") if target.parent.is_dir() else []:
            pid = partial.name.rsplit(_PARTIAL, 1)[1].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and alive(int(pid)):
                continue
            partial.unlink(missing_ok=True)
            done.append(f"removed the unfinished copy {partial}")
        return done


def _copy(src: BinaryIO, out: BinaryIO, progress: BytesProgress | None) -> None:
    for block in iter(lambda: src.read(_BLOCK), b""):
        out.write(block)
        if progress:
            progress(len(block))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _sync_folder(folder: Path) -> None:
    """The rename itself made durable (a crash after it must not lose the entry)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
