"""pgBackRest as mandala-db drives it: one stanza per cluster, its configuration written by the tool (no
password in it: pgBackRest reaches the cluster through its local socket, as the cluster's own OS user),
and the one runner of `pgbackrest`, which runs as the owner of the data directory (PostgreSQL's files are
that user's alone; as root, through `runuser`) and fails with pgBackRest's own error line."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.process import ToolProcess, child_environment

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def binary() -> Path:
    found = shutil.which("pgbackrest")
    if found is None:
        raise OperationFailed("pgbackrest is not installed on this machine",
                              "install it (Debian: apt-get install pgbackrest) and run the command again")  # fmt: skip
    return Path(found)


def version() -> str:
    out = subprocess.run([str(binary()), "version"], capture_output=True, text=True, env=child_environment(),
                         stdin=subprocess.DEVNULL, timeout=30).stdout  # fmt: skip
    m = re.search(r"\d+\.\d+(\.\d+)?", out)
    return m.group(0) if m else out.strip()


@dataclass(frozen=True)
class Repo:
    """Where backups and archived WAL go: a folder, or s3://bucket/prefix (with an endpoint for tests and
    S3-compatible stores); S3 credentials come from the environment, never from the configuration file."""

    raw: str

    @property
    def s3(self) -> bool:
        return self.raw.startswith("s3://")

    def options(self, endpoint: str | None = None, region: str | None = None) -> list[str]:
        if not self.s3:
            return [f"repo1-path={Path(self.raw).resolve()}"]
        u = urlparse(self.raw)
        if not u.netloc:
            raise BadInput(f"--repo {self.raw}: no bucket", "use s3://BUCKET/PREFIX")
        lines = ["repo1-type=s3", f"repo1-s3-bucket={u.netloc}", f"repo1-path=/{u.path.strip('/')}",
                 f"repo1-s3-region={region or 'us-east-1'}", "repo1-s3-key-type=shared"]  # fmt: skip
        if endpoint:
            e = urlparse(endpoint if "//" in endpoint else f"https://{endpoint}")
            lines += [f"repo1-s3-endpoint={e.hostname}", "repo1-s3-uri-style=path"]
            if e.port:
                lines.append(f"repo1-storage-port={e.port}")
            if e.scheme == "http":
                raise BadInput(f"{endpoint}: pgBackRest speaks only HTTPS to S3", "give an https:// endpoint")
        return lines


@dataclass(frozen=True)
class Stanza:
    name: str
    config: Path  # the configuration file mandala-db writes for it
    pg_path: Path  # the cluster's data directory
    socket: str  # the cluster's Unix socket directory
    port: int
    user: str  # the database user pgBackRest connects as
    repo: Repo
    s3_endpoint: str | None = None
    s3_region: str | None = None

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise BadInput(f"--stanza {self.name!r}: letters, digits, '.', '_' and '-' only",
                           "e.g. --stanza goal-mandala")  # fmt: skip

    def render(self) -> str:
        """The configuration: no password, no key (pgBackRest reads S3 keys from its environment)."""
        state = self.config.parent
        lines = ["# written by mandala-db pitr setup: edit with `mandala-db pitr setup`, not by hand", "[global]",
                 *self.repo.options(self.s3_endpoint, self.s3_region), f"log-path={state / 'log'}",
                 f"lock-path={state / 'lock'}", f"spool-path={state / 'spool'}", "start-fast=y",
                 "archive-async=n", "log-level-console=warn", "log-level-file=info", "",
                 f"[{self.name}]", f"pg1-path={self.pg_path}", f"pg1-socket-path={self.socket}",
                 f"pg1-port={self.port}", f"pg1-user={self.user}"]  # fmt: skip
        return "\n".join(lines) + "\n"

    @property
    def archive_command(self) -> str:
        return f"{binary()} --config={self.config} --stanza={self.name} archive-push %p"

    def owner(self) -> str:
        """The OS user the cluster's files belong to: pgBackRest must read them and write as them."""
        return pwd.getpwuid(self.pg_path.stat().st_uid).pw_name

    def write(self) -> None:
        """The configuration and the folders it names, owned by the cluster's user."""
        state = self.config.parent
        for folder in (state, state / "log", state / "lock", state / "spool"):
            folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(self.render(), encoding="utf-8")
        self.config.chmod(0o640)
        if not self.repo.s3:
            Path(self.repo.options()[0].split("=", 1)[1]).mkdir(parents=True, exist_ok=True, mode=0o750)
        if os.geteuid() == 0:
            owner = self.owner()
            paths = [state, state / "log", state / "lock", state / "spool", self.config]
            if not self.repo.s3:
                paths.append(Path(self.repo.options()[0].split("=", 1)[1]))
            for p in paths:
                shutil.chown(p, owner, owner)

    def readable_by_owner(self) -> bool:
        """Whether the cluster's user can read the configuration (archive_command runs as that user): a
        folder on the way that is private to root (a home folder, a `mktemp -d`) hides it."""
        if os.geteuid() != 0 or self.owner() == "root":
            return os.access(self.config, os.R_OK)
        done = subprocess.run(["runuser", "-u", self.owner(), "--", "test", "-r", str(self.config)],
                              capture_output=True, stdin=subprocess.DEVNULL)  # fmt: skip
        return done.returncode == 0

    def run(self, *args: str, timeout: float = 3600) -> str:
        """`pgbackrest --config=... --stanza=NAME ARGS` as the cluster's user; its stdout, or OperationFailed
        with its error line (pgBackRest's `ERROR: [nnn]: ...`). It runs in a process group of its own that
        dies with mandala-db, however mandala-db dies: a killed backup or restore leaves no pgBackRest behind
        (the repository stays consistent: pgBackRest writes a backup's manifest last)."""
        cmd = [str(binary()), f"--config={self.config}", f"--stanza={self.name}", *args]
        if os.geteuid() == 0 and self.owner() != "root":
            cmd = ["runuser", "-u", self.owner(), "--", *cmd]
        bus.debug("pitr_run", "pgbackrest " + " ".join(args))
        tool = ToolProcess(cmd, None, stdout=subprocess.PIPE)
        try:
            out = tool.stdout.read().decode("utf-8", "replace")
            code = tool.wait(timeout)
        except BaseException:
            tool.kill()
            raise
        if code != 0:
            said = out + "\n" + "\n".join(tool.tail)
            raise OperationFailed(f"pgbackrest {args[-1] if args else ''} failed: {error_line(said)}")
        return out

    def info(self) -> dict[str, Any]:
        data = json.loads(self.run("--output=json", "info") or "[]")
        return data[0] if data else {}


def error_line(output: str) -> str:
    """pgBackRest's own error (`ERROR: [056]: ...`, with what it calls the cause), or its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("ERROR", "WARN: unable"))]
    found = (errors or lines or ["no output"])[-1]
    if "VersionNotSupportedError" in output or "unexpected control version" in output:
        return f"pgBackRest {version()} does not support this PostgreSQL version: install a newer pgBackRest"
    return bus.scrub(found)
