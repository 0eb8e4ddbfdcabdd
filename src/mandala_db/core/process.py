"""The one runner of the PostgreSQL client tools (pg_dump, pg_restore, psql).

Every child dies with the tool: it runs in its own process group with the Linux parent-death signal set,
so a SIGKILLed mandala-db leaves no pg_restore feeding a psql that could still commit. Its stderr is always
drained (a full pipe would stall it, a closed one would kill it with SIGPIPE half-way), its environment is
built from an allow-list, and its password arrives through an anonymous in-memory file that vanishes with
the processes holding it, never a file on disk, an argument or an environment variable.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL

Progress = Callable[[int, int, str], None]  # (tables done, tables in all, current table)

# What a client tool may see of our environment: the locale, paths, and libpq's own settings other than
# passwords. DATABASE_URL, cloud credentials, PGPASSWORD and everything else stay with the tool.
_ENV_ALLOWED = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH"}
_ENV_ALLOWED_PREFIXES = ("LC_", "PG")
_ENV_DENIED = {"PGPASSWORD", "PGPASSFILE"}

_PR_SET_PDEATHSIG = 1
_prctl: Any = None
if sys.platform.startswith("linux"):
    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        _prctl = None


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _ENV_DENIED and (k in _ENV_ALLOWED or k.startswith(_ENV_ALLOWED_PREFIXES))
    }
    env.update(extra or {})
    return env


def _die_with_parent(parent: int) -> Callable[[], None]:
    def setup() -> None:
        # Runs in the child between fork and exec. SIGKILL arrives when the parent thread dies; if the
        # parent died before this line, the child is already an orphan and must not run at all.
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


# Watches one child's process group from outside: it reads a pipe whose only writer is this process, and
# when the pipe ends without a word (we died, however: SIGKILL included) it kills the whole group. The
# parent-death signal reaches only the direct child; pg_dump --jobs forks workers that would outlive us,
# keep writing and keep their snapshot open.
_WATCHDOG = 'read _ || kill -9 -"$1" 2>/dev/null'


class GroupWatchdog:
    def __init__(self, pgid: int) -> None:
        read_end, self._write_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG, "mandala-db-watchdog", str(pgid)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={"PATH": "/usr/bin:/bin"},
                start_new_session=True,  # not in the group it watches, nor in ours: it outlives us
            )
        finally:
            os.close(read_end)

    def release(self) -> None:
        """The group has ended as it should: the watchdog leaves without killing anything."""
        if self._write_end < 0:
            return
        with suppress(OSError):
            os.write(self._write_end, b"done\n")
        os.close(self._write_end)
        self._write_end = -1
        self.proc.wait()


@contextmanager
def memory_file(content: bytes, name: str) -> Iterator[tuple[str, int]]:
    """An anonymous 0600 in-memory file, as (`/dev/fd/N` path for a child, N): nothing reaches the disk, and
    it is gone once the last process holding it exits, even after a SIGKILL."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        os.fchmod(fd, 0o600)  # libpq ignores a password file that others could read
        os.write(fd, content)
        yield f"/dev/fd/{fd}", fd
    finally:
        os.close(fd)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


@contextmanager
def password_file(url: DatabaseURL | None) -> Iterator[tuple[dict[str, str], tuple[int, ...]]]:
    """PGPASSFILE for a child, with the fd to hand it; nothing without a URL or a password."""
    if url is None or url.password is None:
        yield {}, ()
        return
    bus.add_secret(url.password)
    line = f"*:*:*:{_escape(url.user or '*')}:{_escape(url.password)}\n".encode()
    with memory_file(line, "mandala-pgpass") as (path, fd):
        yield {"PGPASSFILE": path}, (fd,)


def conninfo(url: DatabaseURL, application_name: str = "mandala-db:backup") -> str:
    """A libpq connection string for --dbname, without the password."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo("", **url.libpq_params(application_name=application_name))


DUMPING_TABLE = re.compile(r'dumping contents of table "([^"]+)"')
RESTORING_TABLE = re.compile(r'processing data for table "([^"]+)"')


class ToolProcess:
    """A started client tool. Its stderr is read to the end by a thread of its own: the last lines are kept
    for the error message, and lines that match `pattern` drive the progress callback."""

    def __init__(
        self,
        cmd: Sequence[str],
        url: DatabaseURL | None = None,
        *,
        stdin: IO[Any] | int | None = None,
        stdout: IO[Any] | int | None = None,
        pattern: re.Pattern[str] | None = None,
        total: int = 0,
        progress: Progress | None = None,
        on_line: Callable[[str], None] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.name = Path(cmd[0]).name
        self.tail: list[str] = []
        self._pattern, self._total, self._progress, self._on_line = pattern, total, progress, on_line
        with password_file(url) as (extra, fds):
            self.proc = subprocess.Popen(
                list(cmd),
                env=child_environment(extra),
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=stdout if stdout is not None else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(*fds, *pass_fds),
                start_new_session=True,  # its own process group: a terminal's ^C reaches the tool alone
                preexec_fn=_die_with_parent(os.getpid()),
            )
        self._watchdog = GroupWatchdog(self.proc.pid)
        self._done = False
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True)
        self._reader.start()

    def _drain(self, stream: IO[bytes]) -> None:
        done = 0
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            self.tail.append(line)
            del self.tail[:-20]
            if self._on_line is not None:
                self._on_line(line)
            m = self._pattern.search(line) if self._pattern else None
            if m:
                done += 1
                if self._progress:
                    self._progress(min(done, self._total), self._total, m.group(1))

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    @property
    def stdin(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin

    def wait(self, timeout: float | None = None) -> int:
        code = self.proc.wait(timeout)
        self._reader.join()  # stderr closed: every process of the group that held it has ended
        self._watchdog.release()
        self._done = True
        return code

    def kill(self) -> None:
        """The whole group: a tool may have started helpers of its own (pg_dump --jobs)."""
        if self._done:  # the group has ended (its pid may belong to someone else by now)
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the leader may have exited, its workers not
        except (ProcessLookupError, PermissionError):
            if self.proc.poll() is None:
                self.proc.kill()
        self.wait()

    def error_line(self, code: int) -> str:
        """The most telling line of what the tool said: its last error, else its last word."""
        errors = [ln for ln in self.tail if "error" in ln.lower() or "fatal" in ln.lower()]
        return bus.scrub((errors or self.tail or [f"exit {code}"])[-1])

    def check(self) -> None:
        code = self.wait()
        if code != 0:
            raise OperationFailed(f"{self.name} failed: {self.error_line(code)}")


def run_tool(
    cmd: Sequence[str],
    url: DatabaseURL | None,
    *,
    pattern: re.Pattern[str] | None = None,
    total: int = 0,
    progress: Progress | None = None,
    stdout: IO[Any] | int | None = None,
    pass_fds: tuple[int, ...] = (),
) -> None:
    """Run a client tool to its end; fail with its last meaningful line. Killed with us if we die."""
    tool = ToolProcess(
        cmd, url, stdout=stdout, pattern=pattern, total=total, progress=progress, pass_fds=pass_fds
    )
    try:
        tool.check()
    except BaseException:
        tool.kill()
        raise


def capture(cmd: Sequence[str]) -> tuple[int, bytes, str]:
    """A short local run of a client tool that needs no server (pg_restore --list of a file): exit code,
    stdout, and the last line it wrote to stderr."""
    with subprocess.Popen(
        list(cmd),
        env=child_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent(os.getpid()),
    ) as proc:
        watchdog = GroupWatchdog(proc.pid)
        try:
            out, err = proc.communicate()
        finally:
            watchdog.release()
    lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    return proc.returncode, out, lines[-1] if lines else ""
