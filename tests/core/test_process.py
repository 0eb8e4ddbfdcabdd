"""core/process: the one runner of the client tools. A child gets an allow-listed environment and its
password through an in-memory file, never an argument or a variable; its stderr drives progress and gives
the error line; and it never outlives us: killing it takes its whole group, and a SIGKILLed parent takes
its children along."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SENTINEL_PASSWORD
from mandala_db.core.errors import OperationFailed
from mandala_db.core.process import ToolProcess, capture, child_environment, conninfo, password_file, run_tool
from mandala_db.core.url import DatabaseURL

URL = DatabaseURL.parse("postgresql://app%3Ax:" + "Sentinel-pw-7f3a9c%21%40%23%25" + "@db.example.com/app")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def gone_within(pid: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_child_sees_only_the_allowed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"PGPASSWORD": "x", "PGPASSFILE": "/tmp/p", "AWS_SECRET_ACCESS_KEY": "s", "PGHOST": "h",
                        "LC_ALL": "C.UTF-8", "MANDALA_DATABASE_URL": "postgresql://u:p@h/d"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    env = child_environment({"PGPASSFILE": "/dev/fd/9"})
    assert env["PGHOST"] == "h" and env["LC_ALL"] == "C.UTF-8" and env["PGPASSFILE"] == "/dev/fd/9"
    assert not {"PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "MANDALA_DATABASE_URL"} & set(env)


def test_the_password_reaches_the_child_in_memory_and_escaped_for_pgpass() -> None:
    assert URL.password == SENTINEL_PASSWORD and URL.user == "app:x"
    with password_file(URL) as (extra, fds):
        path = extra["PGPASSFILE"]
        assert path.startswith("/dev/fd/")
        read = subprocess.run(["cat", path], pass_fds=fds, capture_output=True, check=True)
    assert read.stdout.decode() == f"*:*:*:app\\:x:{SENTINEL_PASSWORD}\n"
    with password_file(URL.with_password(None)) as (none, no_fds):
        assert none == {} and no_fds == ()
    assert SENTINEL_PASSWORD not in conninfo(URL) and "application_name=mandala-db:backup" in conninfo(URL)


def test_stderr_drives_progress_and_gives_the_error_line() -> None:
    script = 'for t in goals tasks; do echo "pg_dump: dumping contents of table \\"public.$t\\"" >&2; done; ' \
             'echo "pg_dump: error: query failed: permission denied for table notes" >&2; echo "bye" >&2; exit 1'  # fmt: skip
    seen: list[tuple[int, int, str]] = []
    from mandala_db.core.process import DUMPING_TABLE

    with pytest.raises(OperationFailed) as failed:
        run_tool(
            ["sh", "-c", script],
            None,
            pattern=DUMPING_TABLE,
            total=2,
            progress=lambda d, t, n: seen.append((d, t, n)),
        )
    assert seen == [(1, 2, "public.goals"), (2, 2, "public.tasks")]
    assert str(failed.value) == "sh failed: pg_dump: error: query failed: permission denied for table notes"


def test_killing_a_tool_takes_the_helpers_it_started() -> None:
    tool = ToolProcess(["sh", "-c", "sleep 300 & echo $! ; wait"], stdout=subprocess.PIPE)
    helper = int(tool.stdout.readline())
    assert alive(helper)
    tool.kill()
    assert gone_within(helper)


def test_a_sigkilled_parent_takes_its_tools_along(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess; from mandala_db.core.process import ToolProcess\n"
         "t = ToolProcess(['sh', '-c', 'sleep 300 & echo $!; wait'], stdout=subprocess.PIPE)\n"
         "print(t.proc.pid, int(t.stdout.readline()), flush=True)\n"
         "import time; time.sleep(300)"],
        stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert parent.stdout is not None
    tool_pid, helper = (int(p) for p in parent.stdout.readline().split())
    parent.kill()
    parent.wait()
    assert gone_within(tool_pid) and gone_within(helper)


def test_capture_returns_the_code_the_output_and_the_last_error_line() -> None:
    code, out, last = capture(["sh", "-c", "echo out; echo first >&2; echo last >&2; exit 3"])
    assert (code, out, last) == (3, b"out\n", "last")
