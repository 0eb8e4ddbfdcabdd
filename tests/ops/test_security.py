"""ops/security: what other capabilities call. `check_database` runs every check with the repository's
suppressions applied and says so in one record; `blocking_findings` is `migrate prod`'s pre-flight, a line
for each unsuppressed failure at the severity asked; `recommend_for` tailors the advice to what failed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from mandala_db.core.database import Database
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security import blocking_findings, check_database, recommend_for


def suppress_superuser(tmp_path: Path, user: str) -> Path:
    path = tmp_path / "security-suppressions.toml"
    until = (date.today() + timedelta(days=3)).isoformat()
    path.write_text(
        f'[[suppress]]\nid = "role.application"\nobject = "role {user}"\nreason = "the suite"\nexpires = {until}\n'
        '[[suppress]]\nid = "log.connections"\nreason = ""\nexpires = 2999-01-01\n'
    )
    return path


def test_the_login_as_superuser_is_weighed_by_the_environment(db_url: DatabaseURL, tmp_path: Path) -> None:
    none = tmp_path / "empty.toml"
    none.write_text("")
    weight = {
        env: {f.severity for f in check_database(Database(db_url), none, environment=env).findings
              if f.id == "role.application" and f.status == "fail"}
        for env in ("development", "production")
    }  # fmt: skip
    assert weight == {"development": {"low"}, "production": {"high"}}


def test_suppressions_apply_and_the_report_is_one_record(
    db_url: DatabaseURL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records: list[dict[str, Any]] = []
    monkeypatch.setattr(bus, "sinks", [records.append])
    user = db_url.user or "postgres"
    report = check_database(Database(db_url), suppress_superuser(tmp_path, user), environment="production")
    (app,) = [f for f in report.findings if f.id == "role.application" and f.object == f"role {user}"]
    assert app.status == "fail" and app.suppressed and app.suppressed.startswith("the suite (until ")
    assert report.suppression_problems and "no reason" in report.suppression_problems[0]
    actions = [r["metadata"]["action"] for r in records if r["metadata"]["action"].startswith("security")]
    assert actions == ["security_suppression_ignored", "security_check"]
    assert records[-1]["metadata"]["suppressed"] == report.counts()["suppressed"] >= 1


def test_the_pre_flight_names_each_blocking_finding_and_a_suppression_lets_it_through(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    user = db_url.user or "postgres"
    blocking = blocking_findings(Database(db_url), empty)
    assert f"security: role.application on role {user}: " in "\n".join(blocking)
    assert not [
        b
        for b in blocking_findings(Database(db_url), suppress_superuser(tmp_path, user))
        if "role.application" in b
    ]


def test_recommend_for_answers_the_same_report_it_advises_on(db_url: DatabaseURL, tmp_path: Path) -> None:
    recommendation, report = recommend_for(
        Database(db_url), suppress_superuser(tmp_path, db_url.user or "postgres")
    )
    assert report.findings
    # The suite's servers log in as a superuser with trust rules: the advice covers those failures.
    titles = [s.title for s in recommendation.sections]
    assert titles[:3] == ["URLs", "postgresql.conf", "pg_hba.conf"]
    url_line = recommendation.section("URLs").lines[0].text
    assert url_line.startswith("DATABASE_URL=") and "sslmode=verify-full" in url_line
