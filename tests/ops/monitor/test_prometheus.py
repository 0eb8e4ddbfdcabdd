"""ops/monitor/prometheus.py: the Prometheus textfile parses, a real Pushgateway receives the metrics, and one
that is down costs one warning, not the deploy."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from servers import free_port
from support import ok


def test_the_prometheus_textfile_parses(db_url: DatabaseURL, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    out = tmp_path / "textfile" / "mandala.prom"
    ok(run_cli("--metrics", "prometheus", "--metrics-file", str(out), "migrate", "deploy", url=db_url))
    samples = {s.name: s for f in text_string_to_metric_families(out.read_text()) for s in f.samples}
    assert samples["mandala_migrations_completed_total"].value == 7
    assert samples["mandala_migrations_started_total"].labels == {
        "environment": "development",
        "command": "migrate deploy",
    }
    assert samples["mandala_migration_duration_seconds_count"].value == 7
    assert samples["mandala_migration_last_success_timestamp_seconds"].value > time.time() - 60
    assert not list(out.parent.glob("*.tmp*"))  # written atomically


def test_a_real_pushgateway_receives_the_metrics(db_url: DatabaseURL, pushgateway: str) -> None:
    ok(run_cli("--pushgateway", pushgateway, "migrate", "deploy", url=db_url))
    groups = json.loads(urllib.request.urlopen(f"{pushgateway}/api/v1/metrics", timeout=5).read())["data"]
    (group,) = [g for g in groups if g["labels"].get("job") == "mandala-db"]
    assert group["labels"]["environment"] == "development"
    completed = group["mandala_migrations_completed_total"]["metrics"][0]
    assert float(completed["value"]) == 7


def test_a_pushgateway_that_is_down_costs_one_warning_not_the_deploy(db_url: DatabaseURL) -> None:
    result = run_cli("--pushgateway", f"http://127.0.0.1:{free_port()}", "migrate", "deploy", url=db_url)
    assert result.code == 0, result.output
    assert result.stderr.count("warning: Pushgateway: the metrics could not be delivered") == 1


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[str]:
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if binary is None:
        pytest.skip("needs Debian's prometheus-pushgateway (.ci/run installs it)")
    port = free_port()
    proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait()
