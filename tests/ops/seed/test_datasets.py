"""ops/seed/datasets: the data sets by name, a scale checked before anything is built, and no made-up data
in production."""

from __future__ import annotations

import math

import pytest

from mandala_db.core.errors import BadInput, Refused
from mandala_db.core.settings import Environment
from mandala_db.ops.seed.datasets import BUILDERS, MAX_SCALE, build, check_allowed, check_name


def test_the_names_are_the_ones_the_cli_contract_lists() -> None:
    assert list(BUILDERS) == ["development", "test", "demo", "performance"]


def test_an_unknown_name_says_which_ones_exist() -> None:
    with pytest.raises(BadInput) as bad:
        check_name("prod-like")
    assert bad.value.exit_code == 2 and bad.value.hint == "use one of development, test, demo, performance"


@pytest.mark.parametrize("scale", [0.0, -1.0, MAX_SCALE * 10, math.nan, math.inf])
def test_a_scale_outside_zero_to_the_maximum_is_bad_input(scale: float) -> None:
    with pytest.raises(BadInput, match="--scale must be above 0"):
        build("performance", scale)


def test_a_small_scale_builds_a_small_sample() -> None:
    small, larger = build("performance", 0.001), build("performance", 0.01)
    assert 0 < small.row_count < larger.row_count


def test_production_is_refused_and_every_other_environment_allowed() -> None:
    with pytest.raises(Refused, match="refused in production"):
        check_allowed(Environment.PRODUCTION)
    for environment in Environment:
        if environment is not Environment.PRODUCTION:
            check_allowed(environment)
