"""cli/options: the options every schema-changing command shares become its run options. A timeout given on
the command line wins over a revision's own (it is marked explicit), a default does not; a duration that
does not parse is bad input naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.cli.options import lock_policy, run_options
from mandala_db.core.errors import BadInput
from mandala_db.core.settings import Environment, Settings


def settings() -> Settings:
    return Settings(
        environment=Environment.STAGING, database_url=None, state_dir=Path("."), cache_dir=Path("/c")
    )


def test_the_defaults_leave_each_revision_its_own_timeouts() -> None:
    options = run_options(settings(), lock_wait=30, lock_timeout=None, statement_timeout=None)
    assert (options.lock_timeout, options.lock_timeout_explicit) == ("5s", False)
    assert (options.statement_timeout, options.statement_timeout_explicit) == (None, False)
    assert options.environment == "staging" and options.cache_dir == Path("/c") and options.lock_retries == 5


def test_timeouts_on_the_command_line_win_and_are_marked_so() -> None:
    options = run_options(settings(), 30, "2s", "10min", lock_retries=2, expect_plan="ab12")
    assert (options.lock_timeout, options.lock_timeout_explicit) == ("2s", True)
    assert (options.statement_timeout, options.statement_timeout_explicit) == ("10min", True)
    assert options.lock_retries == 2 and options.expect_plan == "ab12"


@pytest.mark.parametrize(
    ("flag", "value"), [("--lock-timeout", "soon"), ("--statement-timeout", "5 parsecs")]
)
def test_a_duration_that_does_not_parse_names_its_option(flag: str, value: str) -> None:
    args = {"--lock-timeout": (value, None), "--statement-timeout": (None, value)}[flag]
    with pytest.raises(BadInput, match=f"{flag} '{value}' is not a duration"):
        run_options(settings(), 30, *args)


def test_restores_and_apply_roles_read_the_same_flags() -> None:
    assert lock_policy(None, 5).timeout == "5s"
    assert (lock_policy("750ms", 3).timeout, lock_policy("750ms", 3).tries) == ("750ms", 3)
    with pytest.raises(BadInput, match="--lock-timeout"):
        lock_policy("later", 3)
