"""External PostgreSQL client tools (psql, pg_dump, pg_restore): found, never assumed.

A client must be at least as new as the server it talks to (pg_restore 15 cannot read a dump written by
pg_dump 16), so candidates are collected from PATH, /usr/lib/postgresql/*/bin and pgserver's bundle, and the
oldest one that is new enough wins: the closest match to the server.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mandala_db.core.errors import OperationFailed
from mandala_db.core.process import child_environment


@dataclass(frozen=True)
class ClientTool:
    name: str
    path: Path
    major: int
    version: str


def _candidates(name: str) -> list[Path]:
    found: list[Path] = []
    pinned = os.environ.get("MANDALA_PG_BINDIR")
    if pinned:  # the operator says exactly which client tools to use
        return [p for p in [Path(pinned) / name] if p.exists()]
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    found += [Path(p) for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))]
    # pgserver's bundled tools, found without importing it (its import starts psutil and friends).
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        found.append(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)
    unique: dict[Path, Path] = {}
    for p in found:
        # Debian's /usr/bin/pg_dump is pg_wrapper, which only dispatches to /usr/lib/postgresql/*/bin
        # (already listed) by a cluster-dependent rule: slower to ask, and not a version of its own.
        if p.exists() and os.access(p, os.X_OK) and p.resolve().name != "pg_wrapper":
            unique.setdefault(p.resolve(), p)
    return list(unique.values())


@cache
def _version(path: Path) -> tuple[int, str] | None:
    try:
        out = subprocess.run(
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            env=child_environment(),
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    return (int(m.group(1)), m.group(0)) if m else None


def available(name: str) -> list[ClientTool]:
    tools = []
    for path in _candidates(name):
        v = _version(path)
        if v:
            tools.append(ClientTool(name, path, v[0], v[1]))
    return sorted(tools, key=lambda t: (t.major, t.version))


def find_pair(server_major: int, prefer: int | None = None) -> tuple[ClientTool, ClientTool]:
    """pg_dump and pg_restore of one version, at least the server's (`prefer` picks a newer one)."""
    dumps = {t.major: t for t in available("pg_dump")}
    restores = {t.major: t for t in available("pg_restore")}
    wanted = prefer if prefer is not None else server_major
    if wanted < server_major:
        from mandala_db.core.errors import BadInput

        raise BadInput(
            f"client tools {wanted} are older than the PostgreSQL {server_major} server",
            f"use {server_major} or newer",
        )
    for major in sorted(set(dumps) & set(restores)):
        if major >= wanted and (prefer is None or major == prefer):
            return dumps[major], restores[major]
    seen = (
        ", ".join(
            [f"pg_dump {t.version} ({t.path})" for t in dumps.values()]
            + [f"pg_restore {t.version} ({t.path})" for t in restores.values()]
        )
        or "none"
    )
    raise OperationFailed(
        f"no pg_dump and pg_restore of the same version, {wanted} or newer, were found (found: {seen})",
        f"install the PostgreSQL {wanted} client tools, or pip install pgserver for version 16",
    )


def find_client(name: str, server_major: int) -> ClientTool:
    tools = available(name)
    fitting = [t for t in tools if t.major >= server_major]
    if fitting:
        return fitting[0]
    seen = ", ".join(f"{t.name} {t.version} ({t.path})" for t in tools) or "none"
    raise OperationFailed(
        f"no {name} of version {server_major} or newer was found for a PostgreSQL {server_major} server "
        f"(found: {seen})",
        f"install the PostgreSQL {server_major} client tools, or pip install pgserver for version 16",
    )
