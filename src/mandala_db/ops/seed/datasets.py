"""The data sets by name."""

from __future__ import annotations

from collections.abc import Callable

from mandala_db.core.errors import BadInput, Refused
from mandala_db.core.settings import Environment
from mandala_db.ops.seed import demo, development, edge, performance
from mandala_db.ops.seed.rows import DataSet

BUILDERS: dict[str, Callable[[float], DataSet]] = {
    "development": development.build,
    "test": edge.build,
    "demo": demo.build,
    "performance": performance.build,
}


# performance at 100 is 94 million rows, about 9 GB: beyond it a typo (1e9) is far likelier than intent.
MAX_SCALE = 100.0


def check_name(name: str, scale: float | None = None) -> None:
    if name not in BUILDERS:
        raise BadInput(f"unknown data set {name!r}", f"use one of {', '.join(BUILDERS)}")
    if scale is not None and not 0 < scale <= MAX_SCALE:  # also false for nan and inf
        raise BadInput(
            f"--scale must be above 0 and at most {MAX_SCALE:g}, not {scale}",
            "performance at --scale 1 is 940,000 rows; 0.01 is a small sample",
        )


def build(name: str, scale: float = 1.0) -> DataSet:
    check_name(name, scale)
    return BUILDERS[name](scale)


def check_allowed(environment: Environment) -> None:
    """Made-up data never goes into production."""
    if environment is Environment.PRODUCTION:
        raise Refused(
            "seed is refused in production: it writes made-up data",
            "seed a development, test or staging database instead",
        )
