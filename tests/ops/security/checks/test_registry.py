"""ops/security/checks/registry.py: a check is a named unit with a CIS number only where the benchmark has
it; its findings carry its remediation when they fail, and a statement that fixes the object is the
remediation itself."""

from __future__ import annotations

import pytest

from mandala_db.ops.security.checks.registry import CHECKS, Check, _setting_check, check
from ops.security.securitykit import offline_facts


def unit() -> Check:
    return Check("x.sample", "a sample", "medium", "do the thing", "6.8", run=lambda c, f: [])


def test_a_failure_carries_the_remediation_and_a_pass_does_not() -> None:
    [failed] = unit().failed("it is off", object="role app")
    assert (failed.status, failed.remediation, failed.cis, failed.object) == (
        "fail",
        "do the thing",
        "6.8",
        "role app",
    )
    [passed] = unit().passed("it is on")
    assert passed.remediation == ""


def test_a_fixing_statement_becomes_the_remediation_and_a_severity_can_be_lowered() -> None:
    [finding] = unit().failed("granted", sql="REVOKE ALL ON t FROM PUBLIC", severity="low")
    assert finding.remediation == finding.sql == "REVOKE ALL ON t FROM PUBLIC"
    assert finding.severity == "low"


def test_a_cis_number_the_benchmark_does_not_have_is_refused_at_registration() -> None:
    before = len(CHECKS)
    with pytest.raises(ValueError, match=r"9\.99 is not a recommendation of the CIS PostgreSQL"):
        check("x.bad", "t", "low", "r", cis="9.99")
    registered = check("x.ok", "t", "low", "r")(lambda c, f: [])
    assert CHECKS[-1] is registered and len(CHECKS) == before + 1
    CHECKS.remove(registered)  # the registry is the report: leave it as the package built it


def test_ids_are_unique_and_every_check_is_registered_once() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids)) and len(ids) > 30


def test_a_setting_check_passes_fails_or_says_which_role_could_see_it() -> None:
    def on(value: str) -> bool:
        return value == "on"

    assert (
        _setting_check(unit(), offline_facts(settings={"ssl": "on"}), "ssl", on)[0].evidence == "ssl = 'on'"
    )
    assert _setting_check(unit(), offline_facts(settings={"ssl": "off"}), "ssl", on)[0].status == "fail"
    [hidden] = _setting_check(unit(), offline_facts(), "ssl", on)
    assert hidden.status == "skipped" and hidden.evidence.startswith("not enough privilege")
