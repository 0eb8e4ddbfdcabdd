"""ops/adopt/forward: an older state of the team's Prisma history brought to the latest (2025-12-11) in
Prisma's own layout, the way its migrations did, with our revision's label mappings: what the dry run
simulates is what the statements leave, every row comes across with its labels mapped, and a database at
the latest state needs nothing."""

from __future__ import annotations

from typing import Any

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import proof
from mandala_db.ops.adopt.forward import forward, label_sql, simulate
from ops.adopt.prismakit import build, populate_2025_11


def test_the_labels_map_as_our_revision_maps_them() -> None:
    assert label_sql("TaskType", "t") == "CASE t::text WHEN 'REVIEW' THEN 'HABIT' ELSE 'EXECUTION' END"
    assert label_sql("TaskStatus", "s") == (
        "CASE s::text WHEN 'PENDING' THEN 'NOT_STARTED' WHEN 'CANCELLED' THEN 'SKIPPED' ELSE s::text END"
    )


def test_2025_11_comes_forward_with_every_row_and_as_simulated(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        populate_2025_11(conn, planted=False)
        legacy: list[tuple[Any, ...]] = conn.execute(
            'SELECT id, type::text, status::text, "estimatedTime" FROM tasks ORDER BY id').fetchall()  # fmt: skip
        live = catalog.take(conn)
        steps = forward(live)
        with conn.transaction(force_rollback=True):
            first = steps.before(conn)
            for _, sql in steps.statements:
                conn.execute(sql.encode())
            assert proof.differences(first, steps.after(conn)) == []
            assert set(first) == {"tasks", "task_reflections"} and first["tasks"][0] == len(legacy)
            now = catalog.take(conn)
            assert catalog.compare(simulate(live), now) == []  # the dry run plans from what the step leaves
            rows = conn.execute(
                'SELECT id, type::text, status::text, "estimatedMinutes" FROM tasks ORDER BY id'
            ).fetchall()
            assert now.enums["TaskType"] == ["EXECUTION", "HABIT"] and "TaskType_legacy" not in now.enums
    mapped = {"ACTION": "EXECUTION", "LEARNING": "EXECUTION", "RESEARCH": "EXECUTION", "MEETING": "EXECUTION",
              "REVIEW": "HABIT"}  # fmt: skip
    status = {"PENDING": "NOT_STARTED", "CANCELLED": "SKIPPED"}
    assert rows == [(i, mapped[t], status.get(s, s), 30 if e is None else e) for i, t, s, e in legacy]
    assert {t for _, t, _, _ in legacy} == set(mapped) and {s for _, _, s, _ in legacy} >= set(status)


def test_2025_12_only_renames_the_task_level_reflections(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-12")
        steps = forward(catalog.take(conn))
    assert steps.statements == [
        ("task_reflections", 'ALTER TABLE "reflections" RENAME TO "task_reflections"')
    ]


def test_the_latest_state_needs_nothing(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        build(conn)
        live = catalog.take(conn)
    assert forward(live).statements == [] and catalog.compare(simulate(live), live) == []
