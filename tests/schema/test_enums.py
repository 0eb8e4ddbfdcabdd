"""schema/enums: each PostgreSQL enum type of the spec as a Python enum whose members are its labels, in
the spec's order, and the map from type name to enum that the models and the seeds read."""

from __future__ import annotations

import enum
import re

import pytest

from conftest import ROOT
from mandala_db.schema import enums
from mandala_db.schema.enums import PG_ENUMS


def test_every_enum_of_the_module_has_its_postgresql_type_name() -> None:
    defined = {v for v in vars(enums).values() if isinstance(v, type) and issubclass(v, enum.Enum)}
    assert set(PG_ENUMS.values()) == defined - {enum.Enum}
    for pg_name, cls in PG_ENUMS.items():
        assert pg_name == re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def test_a_members_name_is_its_label() -> None:
    for cls in PG_ENUMS.values():
        assert [m.name for m in cls] == [m.value for m in cls]


def test_the_labels_are_the_specs_in_its_order() -> None:
    path = ROOT.parent / "shared" / "spec" / "schema.md"
    if not path.exists():
        pytest.skip("the spec lives beside the project, in ../shared/spec")
    spec = path.read_text(encoding="utf-8")
    for pg_name, cls in PG_ENUMS.items():
        labels = [m.value for m in cls]
        # The spec's enum table: one row a type, `| task_status | NOT_STARTED, IN_PROGRESS, ... |`.
        row = next((ln for ln in spec.splitlines() if ln.startswith(f"| {pg_name} |")), None)
        assert row is not None, f"{pg_name} is not in the spec's enum table"
        written = [re.sub(r" \(.*\)$", "", label) for label in row.split("|")[2].strip().split(", ")]
        assert written == labels  # a size band in brackets is a comment (STARTUP (1-10))
