"""ops/monitor/deadline.py: a sink that misbehaves costs the command at most its timeout and one warning,
and never changes its result or exit code. Each sink (webhook alert, Pushgateway, CloudWatch) meets each
way a server fails (accept-and-hang, a byte a second, 500, a 30 MB body, a closed port); the metrics file
meets a folder it cannot write."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Result, run_cli
from mandala_db.core.url import DatabaseURL
from servers import BadServer, free_port

TIMEOUT_S = 2.0
# A URL nothing answers on: `migrate deploy` fails at once with exit 1, which fires the `failed` alert,
# records an error for CloudWatch Logs and leaves counters for the Pushgateway.
UNREACHABLE = DatabaseURL("postgres", None, (("127.0.0.1", free_port()),), "postgres", ())


# The alert state (connection failures in a row) of these runs: a folder of this module, removed at exit.
STATE = tempfile.mkdtemp(prefix="mdb-deadline-")
atexit.register(shutil.rmtree, STATE, True)


def deploy(*flags: str, env: dict[str, str] | None = None) -> tuple[Result, float]:
    started = time.monotonic()
    result = run_cli(
        *flags,
        "migrate",
        "deploy",
        url=UNREACHABLE,
        env={
            "MANDALA_ALERT_TIMEOUT": str(TIMEOUT_S),
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "MANDALA_STATE_DIR": STATE,
            **(env or {}),
        },
        timeout=120,
    )
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def baseline() -> float:
    """The same failing command with no sink: what the sinks' time is measured against."""
    result, elapsed = deploy()
    assert result.code == 1 and "cannot connect" in result.stderr, result.output
    return elapsed


def sink_flags(sink: str, server: BadServer) -> tuple[list[str], dict[str, str]]:
    if sink == "webhook":
        return ["--alert-webhook", server.url + "/hook"], {}
    if sink == "pushgateway":
        return ["--pushgateway", server.url], {}
    return ["--metrics", "cloudwatch"], {"AWS_ENDPOINT_URL": server.url}


@pytest.mark.parametrize("bad_server", BadServer.MODES, indirect=True)
@pytest.mark.parametrize("sink", ["webhook", "pushgateway", "cloudwatch"])
def test_a_misbehaving_sink_costs_at_most_its_timeout_and_one_warning(
    sink: str, bad_server: BadServer, baseline: float
) -> None:
    flags, env = sink_flags(sink, bad_server)
    result, elapsed = deploy(*flags, env=env)
    # The command's own result is untouched: the same exit code and error line as without the sink.
    assert result.code == 1, result.output
    assert result.stderr.count("error: cannot connect") == 1, result.stderr
    assert "Traceback" not in result.output and "unexpected error" not in result.output
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    # One warning for the sink, however many times it failed (a 30 MB answer with status 200 may pass).
    assert len(warnings) == (1 if bad_server.mode != "huge" else len(warnings[:1])), warnings
    if bad_server.mode in ("hang", "drip"):
        assert f"no answer within {TIMEOUT_S:g} s" in warnings[0]
    if bad_server.mode != "closed":
        assert bad_server.requests >= 1  # the sink really was tried
    # A drip would take 40 s, a hang for ever, CloudWatch's four calls four timeouts: one timeout, plus slack
    # for a busy machine.
    assert elapsed - baseline < TIMEOUT_S + 3.0, f"{sink} against {bad_server.mode}: {elapsed:.1f} s"


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can write to: a read-only tmpfs when root (root ignores mode bits), else 0555."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                                 capture_output=True).returncode == 0  # fmt: skip
    if not mounted:
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], capture_output=True)
        folder.chmod(0o755)


@pytest.mark.parametrize("metrics", ["emf", "prometheus"])
def test_a_metrics_file_that_cannot_be_written_is_one_warning_not_a_failure(
    metrics: str, readonly_dir: Path, db_url: DatabaseURL
) -> None:
    for target in (readonly_dir / "metrics.out", Path("/etc/hostname") / "metrics.out"):
        result = run_cli("--metrics", metrics, "--metrics-file", str(target), "migrate", "status", url=db_url)
        assert result.code == 0, result.output
        warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
        assert len(warnings) == 1, warnings
        assert str(target) in warnings[0] or "could not be delivered" in warnings[0], warnings
        assert not target.exists()
