"""The data sets by name."""

from __future__ import annotations

from collections.abc import Callable

from mandala_db.core.errors import BadInput
from mandala_db.ops.seed import demo, development, edge, performance
from mandala_db.ops.seed.rows import DataSet

BUILDERS: dict[str, Callable[[float], DataSet]] = {
    "development": development.build,
    "test": edge.build,
    "demo": demo.build,
    "performance": performance.build,
}


def check_name(name: str, scale: float | None = None) -> None:
    if name not in BUILDERS:
        raise BadInput(f"unknown data set {name!r}", f"use one of {', '.join(BUILDERS)}")
    if scale is not None and not scale > 0:
        raise BadInput(f"--scale must be above 0, not {scale}")


def build(name: str, scale: float = 1.0) -> DataSet:
    check_name(name, scale)
    return BUILDERS[name](scale)
