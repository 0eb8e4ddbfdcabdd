"""ops/migrate/effects: what a statement does to the schema it meets, the facts the plan's lock and rewrite
columns and every lint rule read. Dropping a table locks the tables its foreign keys point at; a type change
rewrites unless the new type is binary coercible; a per-row default rewrites; the walk keeps what each
transaction opened and cuts it where a statement must run alone."""

from __future__ import annotations

import pytest

from mandala_db.ops.migrate.analysis import Statement, analyze
from mandala_db.ops.migrate.effects import Walk, assess, computed_per_row, type_change_rewrites
from mandala_db.ops.migrate.model import SchemaModel, TableModel


def model() -> SchemaModel:
    return SchemaModel(
        tables={
            "goals": TableModel(columns={"id": ("uuid", ())}),
            "tasks": TableModel(
                columns={"id": ("uuid", ()), "goal_id": ("uuid", ()), "minutes": ("int2", ()), "title": ("varchar", (100,))},
                foreign_keys={"tasks_goal_fk": (("goal_id",), "goals")},
            ),
        },
        indexes={"tasks_goal_idx": "tasks"},
        views={"goal_summary": {"goals"}},
    )  # fmt: skip


def assessed(sql: str, m: SchemaModel | None = None) -> Statement:
    [st] = analyze(sql)
    assess(st, m or model())
    return st


def test_dropping_a_table_or_its_foreign_key_locks_the_table_it_points_at() -> None:
    assert assessed("DROP TABLE tasks").locks == {"tasks": "ACCESS EXCLUSIVE", "goals": "ACCESS EXCLUSIVE"}
    assert assessed("ALTER TABLE tasks DROP CONSTRAINT tasks_goal_fk").locks["goals"] == "ACCESS EXCLUSIVE"
    assert "goals" in assessed("ALTER TABLE tasks DROP COLUMN goal_id").locks
    assert "goals" not in assessed("ALTER TABLE tasks DROP COLUMN title").locks


def test_cascades_lock_what_refers_to_the_table() -> None:
    cascade = assessed("DROP TABLE goals CASCADE").locks
    assert cascade["tasks"] == cascade["goal_summary"] == "ACCESS EXCLUSIVE"
    assert "tasks" in assessed("TRUNCATE goals CASCADE").locks
    assert "tasks" not in assessed("TRUNCATE goals").locks


def test_an_index_statement_locks_the_indexes_table() -> None:
    assert assessed("DROP INDEX tasks_goal_idx").locks == {"tasks": "ACCESS EXCLUSIVE"}


@pytest.mark.parametrize(
    ("sql", "rewrites"),
    [
        ("ALTER TABLE tasks ALTER COLUMN minutes TYPE integer", True),
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(200)", False),
        ("ALTER TABLE tasks ALTER COLUMN title TYPE text", False),
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(50)", True),
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(200) USING title::varchar(200)", True),
        ("ALTER TABLE tasks ADD COLUMN code uuid DEFAULT gen_random_uuid()", True),
        ("ALTER TABLE tasks ADD COLUMN n bigserial", True),
        ("ALTER TABLE tasks ADD COLUMN done boolean NOT NULL DEFAULT false", False),
    ],
)
def test_what_rewrites_the_table(sql: str, rewrites: bool) -> None:
    assert (assessed(sql).rewrites == {"tasks"}) is rewrites


def test_without_a_known_old_type_only_unbounded_text_is_sure_not_to_rewrite() -> None:
    assert not type_change_rewrites(None, ("text", ()), using=False)
    assert not type_change_rewrites(None, ("varchar", ()), using=False)
    assert type_change_rewrites(None, ("varchar", (200,)), using=False)


def test_why_a_new_column_is_computed_per_row_is_said() -> None:
    def why(column_sql: str) -> str | None:
        [st] = analyze(f"ALTER TABLE tasks ADD COLUMN {column_sql}")
        return computed_per_row(st.node.cmds[0].def_, model())

    assert why("code text DEFAULT md5(random()::text)") == "a volatile default (random)"
    assert why("n int GENERATED ALWAYS AS IDENTITY") == "an identity value"
    assert why("m int GENERATED ALWAYS AS (1) STORED") == "a stored generated value"
    assert why("at timestamptz DEFAULT now()") is None  # stable: evaluated once for the whole statement


def test_the_walk_keeps_a_transactions_facts_and_cuts_it_where_a_statement_runs_alone() -> None:
    walk = Walk(model())
    for st in analyze(
        "ALTER TABLE tasks ADD COLUMN note text;"
        "ALTER TABLE tasks ADD CONSTRAINT tasks_note CHECK (note <> '') NOT VALID;"
    ):
        walk.before(st)
        walk.after(st)
    assert walk.tx.added_columns == {("tasks", "note")} and walk.tx.not_valid == {("tasks", "tasks_note")}
    assert walk.tx.locks == {"tasks": "ACCESS EXCLUSIVE"}
    assert walk.model.column_type("tasks", "note") == ("text", ())  # the schema moved on
    [alone] = analyze("CREATE INDEX CONCURRENTLY tasks_note_idx ON tasks (note)")
    walk.before(alone)
    assert walk.tx.added_columns == set()  # a statement outside the transaction starts a new one
