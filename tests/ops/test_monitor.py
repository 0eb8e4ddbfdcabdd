"""Metrics as sinks of the event stream: CloudWatch EMF lines as the specification lays them out, a
Prometheus textfile that prometheus-client's own parser reads, a real Pushgateway, and CloudWatch metrics
and logs on a moto server, which `logs tail` prints back."""

from __future__ import annotations

from pathlib import Path

from conftest import SENTINEL_PASSWORD, assert_no_secret, run_cli
from mandala_db.core.url import DatabaseURL
from ops.monitor.test_emf import emf_lines
from support import ok


def test_settings_come_from_pyproject_then_environment_then_flags(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.mandala-db]\nmetrics = ["emf"]\nmetrics-file = "{tmp_path / "from-file.emf"}"\n'
    )
    ok(run_cli("migrate", "status", url=db_url, cwd=tmp_path))
    assert emf_lines(tmp_path / "from-file.emf")
    ok(
        run_cli(
            "migrate",
            "status",
            url=db_url,
            cwd=tmp_path,
            env={"MANDALA_METRICS_FILE": str(tmp_path / "env.emf")},
        )
    )
    assert emf_lines(tmp_path / "env.emf")
    ok(
        run_cli(
            "--metrics-file", str(tmp_path / "flag.emf"), "migrate", "status", url=db_url, cwd=tmp_path,
            env={"MANDALA_METRICS_FILE": str(tmp_path / "env2.emf")},
        )
    )  # fmt: skip
    assert emf_lines(tmp_path / "flag.emf") and not (tmp_path / "env2.emf").exists()
    bad = run_cli("--metrics", "statsd", "migrate", "status", url=db_url)
    assert bad.code == 2 and "unknown metrics sink 'statsd'" in bad.stderr


def test_no_password_in_any_metric(password_server: DatabaseURL, tmp_path: Path) -> None:
    out = tmp_path / "metrics.emf"
    prom = tmp_path / "m.prom"
    runs = [
        run_cli("--metrics", "emf", "--metrics-file", str(out), "migrate", "status", url=password_server),
        run_cli(
            "--metrics", "prometheus", "--metrics-file", str(prom), "migrate", "status", url=password_server
        ),
        run_cli("--log-format", "json", "-v", "--metrics", "emf", "migrate", "status", url=password_server),
    ]
    assert all(r.code == 0 for r in runs), [r.output for r in runs]
    assert "database_connection" in runs[2].stderr
    assert_no_secret(out.read_text() + prom.read_text() + "".join(r.output for r in runs), SENTINEL_PASSWORD)
