"""cli/security: the security commands as a user meets them: --fail-on sets the exit code (a severity that does
not exist is bad input), the verdict names the first failing findings and where the fixes are, and no
output of any subcommand carries the password."""

from __future__ import annotations

from pathlib import Path

from conftest import SENTINEL_PASSWORD, assert_no_secret, run_cli
from mandala_db.core.url import DatabaseURL


def test_fail_on_sets_the_exit_code(db_url: DatabaseURL) -> None:
    """The test servers have medium findings (trust rules, no connection logging) and a superuser URL."""
    assert run_cli("security", "check", "--fail-on", "medium", url=db_url).code == 5
    result = run_cli("security", "check", "--fail-on", "severe", url=db_url)
    assert result.code == 2 and "use high, medium or low" in result.stderr


def test_no_password_in_any_output(password_server: DatabaseURL, tmp_path: Path) -> None:
    outputs = [
        run_cli(*args, url=password_server)
        for args in (
            ("--json", "security", "check"),
            ("security", "check"),
            ("--log-format", "json", "security", "recommend"),
            ("--json", "security", "recommend"),
            ("security", "audit", "--save", str(tmp_path / "audit.json")),
        )
    ]
    assert all(r.code in (0, 5) for r in outputs), [r.output for r in outputs]
    assert "****" in outputs[3].stdout  # the recommended URLs show where the password goes, masked
    assert_no_secret(
        "\n".join(r.output for r in outputs) + (tmp_path / "audit.json").read_text(), SENTINEL_PASSWORD
    )


def test_the_verdict_names_the_first_five_failures_and_where_the_fixes_are() -> None:
    from mandala_db.cli.security import _fail_on, _verdict
    from mandala_db.ops.security.findings import Finding, SecurityReport

    found = [Finding(f"x.{n}", "t", "high", "fail", "e", object=f"role r{n}") for n in range(7)]
    failure = _verdict(SecurityReport(found, "app", False, "16.2"), _fail_on("medium"))
    assert failure is not None and failure.exit_code == 5
    assert failure.message == (
        "7 security finding(s) at medium or above: x.0 on role r0; x.1 on role r1; x.2 on role r2; "
        "x.3 on role r3; x.4 on role r4"
    )
    assert "security recommend" in (failure.hint or "")
    assert _verdict(SecurityReport([], "app", False, "16.2"), "high") is None
