"""Lint rules over the SQL revisions render, in the manner of squawk: one module a rule under `rules/`,
registered with its metadata. Whether a table is populated, what type a column has now, and which functions
are volatile come from the schema model (live, or read from the history when no database is at hand), so the
same revision is fine on an empty table and an error on a busy one."""

from __future__ import annotations

from mandala_db.ops.migrate.lint.engine import LintFinding, Unit, lint_units
from mandala_db.ops.migrate.lint.registry import RULES, Rule, Scope, rule
from mandala_db.ops.migrate.lint.waivers import read_waivers

__all__ = ["RULES", "LintFinding", "Rule", "Scope", "Unit", "lint_units", "read_waivers", "rule"]
