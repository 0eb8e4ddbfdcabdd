"""ops/migrate/lint/rules/bad_waiver.py, `bad-waiver`: a waiver that cannot be trusted (no reason, a rule that
does not exist, unreadable) is itself an error; the engine reports it while reading the waivers, so this
module carries only the rule's metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import findings, populated
from ops.migrate.lint.rules.test_non_concurrent_index import CASE as NON_CONCURRENT

__all__ = ["populated"]


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# mandala-db: allow non-concurrent-index", "without a reason"),
        ("# mandala-db: allow non-concurrent-index:   ", "without a reason"),
        ("# mandala-db: allow non-concurent-index: a typo", "which is not a rule"),
        ("# mandala-db: allow bad-waiver: nice try", "which is not a rule"),
        ("# mandala-db: permit non-concurrent-index: wrong verb", "cannot read"),
    ],
)
def test_a_waiver_without_a_reason_or_with_an_unknown_rule_is_itself_an_error(
    comment: str, problem: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    found = findings(populated, tmp_path, NON_CONCURRENT.trigger, header=comment + "\n")
    bad = [f for f in found if f.rule == "bad-waiver"]
    assert len(bad) == 1 and bad[0].blocking and bad[0].line == 2
    assert "20991231000000_under_test.py, line 2" in bad[0].message and problem in bad[0].message
    # ... and it waived nothing: the rule it meant still blocks.
    assert [f.blocking for f in found if f.rule == "non-concurrent-index"] == [True]
