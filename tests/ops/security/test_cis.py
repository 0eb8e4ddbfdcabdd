"""The CIS numbers the checks cite are the current benchmark's (CIS PostgreSQL 17 v1.1.0, as pgdsat 2.0
numbers it), the report names that benchmark, and a number the benchmark does not have is refused where
the check is written, not printed to a reader who would look up the wrong recommendation."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security import cis
from mandala_db.ops.security.checks.registry import CHECKS, check
from support import ok


def test_every_cited_number_is_a_recommendation_of_the_benchmark_and_every_listed_one_is_cited() -> None:
    cited = {c.cis for c in CHECKS if c.cis}
    assert cited <= set(cis.RECOMMENDATIONS), cited - set(cis.RECOMMENDATIONS)
    assert set(cis.RECOMMENDATIONS) <= cited, set(cis.RECOMMENDATIONS) - cited  # no row left behind


@pytest.mark.parametrize(
    ("ident", "number"),
    [  # where an edition moved a number, the check follows the current one
        ("log.connections", "3.1.20"),
        ("log.statement", "3.1.25"),
        ("server.data-checksums", "1.4"),  # 1.3.3 in pgdsat's CIS 16 list
        ("server.minor-version", "1.5"),  # 1.4 in the CIS 16 list
        ("server.password-encryption", "5.4"),  # 5.9 in the CIS 16 list
        ("server.tls-version", "6.9"),
        ("server.ssl-ciphers", "6.10"),
        ("role.reachable", "4.8"),  # the benchmark's roletree: login roles that inherit a superuser
        ("function.security-definer", "4.5"),
        ("table.rls", "4.7"),
    ],
)
def test_checks_cite_the_current_editions_number(ident: str, number: str) -> None:
    (unit,) = [c for c in CHECKS if c.id == ident]
    assert unit.cis == number


def test_a_number_from_another_edition_is_refused_where_the_check_is_written() -> None:
    with pytest.raises(
        ValueError, match=r"5\.9 is not a recommendation of the CIS PostgreSQL 17 Benchmark v1\.1\.0"
    ):
        check("test.stale", "a check citing the CIS 16 number", "low", "nothing", cis="5.9")
    assert not [c for c in CHECKS if c.id == "test.stale"]


def test_the_report_names_the_benchmark_its_numbers_come_from(db_url: DatabaseURL) -> None:
    as_json = json.loads(run_cli("--json", "security", "check", "--fail-on", "high", url=db_url).stdout)
    assert as_json["benchmark"] == "CIS PostgreSQL 17 Benchmark v1.1.0"
    assert any(f["cis"] == "3.1.20" for f in as_json["findings"] if f["id"] == "log.connections")
    text = ok(run_cli("security", "check", "--fail-on", "high", url=db_url)).stdout
    assert "log.connections (CIS 3.1.20)" in text
    assert "CIS numbers: CIS PostgreSQL 17 Benchmark v1.1.0" in text
