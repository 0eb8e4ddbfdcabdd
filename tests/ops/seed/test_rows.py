"""ops/seed/rows: ids derived from (data set, key), PostgreSQL's COPY text format, batches in chunks, and
the collector the hand-written data sets are built with."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from mandala_db.ops.seed.rows import NAMESPACE, Batch, Collector, Json, encode, make_id, table_order


def test_ids_are_uuid5_of_the_data_set_and_key() -> None:
    for key in ("users:alice", "a1.2.3.4", "日本"):
        assert make_id("demo", key) == str(uuid.uuid5(NAMESPACE, f"demo:{key}"))


def test_copy_text_escapes_what_would_end_a_field_or_a_row() -> None:
    assert encode(None) == "\\N"
    assert encode(True) == "t" and encode(False) == "f"
    assert encode("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert encode(date(2026, 12, 3)) == "2026-12-03"
    assert encode(datetime(2026, 12, 3, 9, 30, tzinfo=UTC)) == "2026-12-03T09:30:00+00:00"


def test_a_list_is_an_array_unless_marked_as_json() -> None:
    assert encode(["a", "b"]) == "{a,b}"
    assert encode(Json(["目標", 1])) == '["目標", 1]'
    assert encode({"k": "値\n"}) == '{"k": "値\\\\n"}'  # json's own escape, then COPY's


def test_a_batch_comes_in_chunks_that_add_up_to_its_rows() -> None:
    rows = [(make_id("t", str(i)), i, None) for i in range(12)]
    batch = Batch("tasks", "id", ("id", "n", "note"), lambda: rows, len(rows))
    chunks = list(batch.chunks(chunk_rows=5))
    assert [n for _, n in chunks] == [5, 5, 2]
    assert "".join(text for text, _ in chunks).splitlines()[11] == f"{rows[11][0]}\t11\t\\N"
    assert list(batch.key_values()) == [r[0] for r in rows]


def test_the_collector_derives_ids_groups_rows_by_column_list_and_orders_tables_by_dependency() -> None:
    c = Collector("demo")
    user = c.add("users", "alice", email="alice@example.jp", name="Alice")
    c.add("goals", "g1", user_id=user, title="Run")
    c.add("goals", "g2", user_id=user, title="Read", description="every night")
    c.add("user_reminder_preferences", user_id=user)
    assert user == make_id("demo", "users:alice")
    data = c.build()
    order = table_order()
    assert [order.index(b.table) for b in data.batches] == sorted(order.index(b.table) for b in data.batches)
    assert data.counts() == {"users": 1, "goals": 2, "user_reminder_preferences": 1}
    assert len([b for b in data.batches if b.table == "goals"]) == 2  # two column lists: two COPYs
    prefs = next(b for b in data.batches if b.table == "user_reminder_preferences")
    assert prefs.key == "user_id" and list(prefs.key_values()) == [user]
