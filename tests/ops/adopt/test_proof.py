"""ops/adopt/proof: per table, the row count and a checksum over the mapped columns; read over Prisma's
columns before and over ours after, they are equal when every value came across, and name the table when
one did not."""

from __future__ import annotations

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import proof
from mandala_db.ops.adopt.convert import plan
from ops.adopt.prismakit import clean_prisma_db

__all__ = ["clean_prisma_db"]


def test_before_and_after_are_equal_and_a_changed_value_is_named(clean_prisma_db: DatabaseURL) -> None:
    with connect_to(clean_prisma_db) as conn:
        live, models = catalog.take(conn), catalog.models_snapshot(conn)
        with conn.transaction(force_rollback=True):
            first = proof.before(conn, live, models)
            for _, sql in plan(live, models).statements:
                conn.execute(sql.encode())
            assert proof.differences(first, proof.after(conn, models, sorted(first))) == []
            assert first["tasks"][0] > 0 and len(first) == 18
            conn.execute(
                "UPDATE tasks SET title = title || '!' WHERE id = (SELECT min(id::text)::uuid FROM tasks)"
            )
            conn.execute("DELETE FROM task_notes WHERE id = (SELECT min(id::text)::uuid FROM task_notes)")
            unequal = proof.differences(first, proof.after(conn, models, sorted(first)))
    assert [line.split(":")[0] for line in unequal] == ["task_notes", "tasks"]
    assert "before" in unequal[0] and "after" in unequal[0]
