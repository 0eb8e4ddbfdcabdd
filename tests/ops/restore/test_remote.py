"""ops/restore/remote.py: `restore s3-restore` downloads into a private folder of its own, which goes with
the run; the folder of a run that was killed goes with the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import run_cli
from mandala_db.core.url import DatabaseURL


def test_the_download_a_killed_s3_restore_left_is_removed_by_the_next_one(
    db_url: DatabaseURL, tmp_path: Path, aws_server: dict[str, str]
) -> None:
    import boto3

    boto3.client("s3", endpoint_url=aws_server["AWS_ENDPOINT_URL"], aws_access_key_id="test",
                 aws_secret_access_key="test", region_name="us-east-1").create_bucket(Bucket="remote-left")  # fmt: skip
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    left = private_tmp / f"mandala-db-s3-restore-{int(done.stdout)}-abc123"  # owned by a process now gone
    left.mkdir()
    (left / "full_backup_20260101_000000.dump").write_bytes(b"x" * 4096)
    alive = private_tmp / f"mandala-db-s3-restore-{os.getpid()}-def456"  # a restore still running beside it
    alive.mkdir()
    result = run_cli("--yes", "restore", "s3-restore", "s3://remote-left/nope.dump", url=db_url,
                     env={**aws_server, "TMPDIR": str(private_tmp)})  # fmt: skip
    assert result.code == 2 and "has no manifest beside it" in result.stderr, result.output
    assert f"removed {left}" in result.stderr
    # The leftover is gone, this run's own folder went with it, the live one stays.
    assert sorted(p.name for p in private_tmp.iterdir()) == [alive.name]
