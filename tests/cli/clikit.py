"""What the command-line tests share: the one error line a failure prints, the schema's fingerprint, and
the guide's scripts run word for word."""

from __future__ import annotations

import subprocess

from conftest import ROOT, TEST_CACHE, TEST_SUPPRESSIONS, Result, connect_to
from conftest import assert_no_secret as assert_no_secret_in
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL

OTHER_SENTINEL = "Wrong-pw-91b2e0"


def assert_no_secret(result: Result, *secrets: str) -> None:
    assert_no_secret_in(result.output, OTHER_SENTINEL, *secrets)


def one_error_line(result: Result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def fingerprint(url: DatabaseURL) -> str:
    with connect_to(url) as c:
        return catalog.take(c).fingerprint


def run_wrapper(script: str, *words: str, url: DatabaseURL, env: dict[str, str] | None = None) -> Result:
    """One of the guide's scripts, word for word, with mandala-db from this checkout."""
    import os
    import sys

    full_env = {
        "DATABASE_URL": url.render(mask=False),
        "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
        "MANDALA_DB": f"{sys.executable} -m mandala_db",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "BACKUP_DIR": os.environ.get("BACKUP_DIR", str(ROOT / ".mandala" / "test-backups")),
        "MANDALA_CACHE_DIR": TEST_CACHE,
        "MANDALA_SECURITY_SUPPRESSIONS": str(TEST_SUPPRESSIONS),
        **(env or {}),
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *words],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
