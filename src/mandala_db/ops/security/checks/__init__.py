"""The security checks, one named unit each, grouped by what they read: an id to suppress it by, the CIS
number where one applies, a severity, and the remediation. A check the role cannot run says `skipped` and
why; it never says `pass`. Importing this package registers every check, in the order of the modules below.
"""

from __future__ import annotations

import psycopg

# isort: off
# Each module registers its checks when imported; this order is the order of the report.
# fmt: off
from mandala_db.ops.security.checks import connection, settings, server, hba, roles, privileges, objects, backup  # noqa: F401
# fmt: on

# isort: on
from mandala_db.ops.security.checks.registry import CHECKS, Check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import Finding

__all__ = ["CHECKS", "Check", "check", "run_all"]


def run_all(facts: Facts) -> list[Finding]:
    """Every check; one that errors is reported as skipped with the server's words, never as passed."""
    out: list[Finding] = []
    for unit in CHECKS:
        try:
            with facts.conn.transaction():
                out += unit.run(unit, facts)
        except psycopg.errors.InsufficientPrivilege as exc:
            out += unit.skipped(f"not enough privilege: {exc.diag.message_primary or exc}")
        except psycopg.Error as exc:
            out += unit.skipped(f"could not run: {exc.diag.message_primary or exc}")
    return out
