"""The corpus (corpus.py) through the walk `migrate plan` uses, against the populated database: every
dangerous migration is caught by its rule, and no safe one draws a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.corpus import DANGEROUS, SAFE, Migration
from ops.migrate.lint.lintkit import findings, populated, rules, shown

__all__ = ["populated"]


@pytest.mark.parametrize("case", DANGEROUS, ids=[c.name for c in DANGEROUS])
def test_every_dangerous_migration_is_caught_by_its_rule(
    case: Migration, populated: DatabaseURL, tmp_path: Path
) -> None:
    found = findings(populated, tmp_path, case.sql)
    assert case.rule in rules(found), shown(found)
    assert any(f.blocking for f in found if f.rule == case.rule)


@pytest.mark.parametrize("case", SAFE, ids=[c.name for c in SAFE])
def test_no_safe_migration_draws_a_finding(case: Migration, populated: DatabaseURL, tmp_path: Path) -> None:
    found = findings(populated, tmp_path, case.sql)
    assert rules(found) == [], shown(found)
