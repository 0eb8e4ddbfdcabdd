"""ops/migrate/model.py: what is known of the schema a plan meets. Types compare as PostgreSQL's canonical
names, a type change rewrites the table exactly when PostgreSQL would, a table of unknown size counts as
populated, and the live catalog reads into the same model (keys, foreign keys, NOT VALID checks)."""

from __future__ import annotations

import pytest

from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.ops.migrate.model import SchemaModel, TableModel, from_catalog, live_type, rewrites, shown


@pytest.mark.parametrize(
    ("text", "info"),
    [
        ("character varying(200)", ("varchar", (200,))),
        ("numeric(10,2)", ("numeric", (10, 2))),
        ("timestamp with time zone", ("timestamp with time zone", ())),
        ("integer[]", ("integer[]", ())),
        ("int8", ("bigint", ())),
    ],
)
def test_format_types_text_is_read_as_base_and_modifiers(
    text: str, info: tuple[str, tuple[int, ...]]
) -> None:
    assert live_type(text) == info


def test_a_type_is_shown_as_written() -> None:
    assert shown(("numeric", (10, 2))) == "numeric(10,2)" and shown(None) == "its type"


@pytest.mark.parametrize(
    ("old", "new", "rewrite"),
    [
        (("varchar", (10,)), ("varchar", (20,)), False),
        (("varchar", (20,)), ("varchar", (10,)), True),
        (("bpchar", (5,)), ("text", ()), False),
        (("numeric", (10, 2)), ("numeric", (12, 2)), False),
        (("numeric", (10, 2)), ("numeric", (12, 3)), True),
        (("timestamp with time zone", (6,)), ("timestamp with time zone", (3,)), True),
        (("timestamp with time zone", (3,)), ("timestamp with time zone", (6,)), False),
        (("integer", ()), ("text", ()), True),
    ],
)
def test_a_type_change_rewrites_exactly_when_postgresql_would(
    old: tuple[str, tuple[int, ...]], new: tuple[str, tuple[int, ...]], rewrite: bool
) -> None:
    assert rewrites(old, new) is rewrite


def test_sizes_when_known_and_a_table_of_unknown_size_counts_as_populated() -> None:
    offline = SchemaModel(tables={"tasks": TableModel()})
    assert (
        offline.rows("tasks") is None
        and offline.populated("tasks")
        and offline.size("tasks") == "unknown size"
    )
    assert offline.populated("never_heard_of")  # without a catalog, a table not seen may still exist
    live = SchemaModel(tables={"tasks": TableModel(live_name="old_tasks")}, complete=True,
                       rows_of={"old_tasks": 1200}.get)  # fmt: skip
    assert live.rows("tasks") == 1200 and live.size("tasks") == "~1,200 rows"
    assert not SchemaModel(complete=True).populated("never_heard_of")


def test_the_live_catalog_reads_into_the_model() -> None:
    snapshot = Snapshot("public", enums={"mood": ["UP"]}, views={"v": "SELECT * FROM tasks"})
    snapshot.tables["tasks"] = Table(
        columns={"id": Column("uuid", False, None), "c": Column("integer", True, None)},
        constraints={
            "pk_tasks": ("p", "PRIMARY KEY (id)"),
            "fk_tasks_goal": ("f", "FOREIGN KEY (goal_id) REFERENCES public.goals(id)"),
            "ck_c": ("c", "CHECK ((c IS NOT NULL)) NOT VALID"),
        },
    )
    model = from_catalog(snapshot, {"tasks": 5}.get, lambda f: False, {"ix": "tasks"})
    t = model.tables["tasks"]
    assert t.keys == {"id"} and t.not_null == {"id"} and t.columns["c"] == ("integer", ())
    assert t.foreign_keys == {"fk_tasks_goal": (("goal_id",), "goals")} and t.not_valid == {"ck_c": "c"}
    assert model.views == {"v": {"tasks"}} and model.indexes == {"ix": "tasks"} and model.rows("tasks") == 5
