"""ops/migrate/moves.py: each statement moves the schema model on, so a later statement is judged against
what the earlier ones left: new tables are empty, columns come and go with their types and keys, renames
carry indexes and foreign keys along, NOT VALID checks are followed through VALIDATE, enum labels change."""

from __future__ import annotations

from mandala_db.ops.migrate.analysis import analyze
from mandala_db.ops.migrate.model import SchemaModel
from mandala_db.ops.migrate.moves import apply


def moved(sql: str, model: SchemaModel | None = None) -> SchemaModel:
    model = model or SchemaModel()
    for st in analyze(sql):
        apply(model, st)
    return model


def test_a_created_table_is_empty_and_knows_its_columns_keys_and_foreign_keys() -> None:
    m = moved(
        "CREATE TABLE goals (id uuid PRIMARY KEY, title varchar(200) NOT NULL);"
        "CREATE TABLE actions (id int, goal_id uuid REFERENCES goals (id), CONSTRAINT uq UNIQUE (id))"
    )
    goals, actions = m.tables["goals"], m.tables["actions"]
    assert goals.created and not m.populated("goals") and m.size("goals") == "~0 rows"
    assert goals.columns == {"id": ("uuid", ()), "title": ("varchar", (200,))}
    assert goals.keys == {"id"} and goals.not_null == {"id", "title"}
    assert actions.keys == {"id"} and list(actions.foreign_keys.values()) == [(("goal_id",), "goals")]
    assert m.referencing("goals") == ["actions"]


def test_columns_come_and_go_with_their_types_and_the_foreign_keys_over_them() -> None:
    m = moved(
        "CREATE TABLE t (id int, ref int, CONSTRAINT fk FOREIGN KEY (ref) REFERENCES other (id));"
        "ALTER TABLE t ADD COLUMN n smallint, ALTER COLUMN id TYPE bigint, ALTER COLUMN n SET NOT NULL;"
        "ALTER TABLE t DROP COLUMN ref"
    )
    t = m.tables["t"]
    assert t.columns == {"id": ("bigint", ()), "n": ("smallint", ())} and t.not_null == {"n"}
    assert t.foreign_keys == {}
    assert moved("ALTER TABLE t ALTER COLUMN n DROP NOT NULL", m).tables["t"].not_null == set()


def test_a_rename_carries_the_indexes_and_the_foreign_keys_that_point_at_the_table() -> None:
    m = moved(
        "CREATE TABLE reflections (id int PRIMARY KEY);"
        "CREATE TABLE notes (id int, r int REFERENCES reflections (id));"
        "CREATE INDEX ix_r ON reflections (id);"
        "ALTER TABLE reflections RENAME TO task_reflections;"
        "ALTER TABLE task_reflections RENAME COLUMN id TO rid;"
        "ALTER INDEX ix_r RENAME TO ix_tr"
    )
    assert "reflections" not in m.tables and set(m.tables["task_reflections"].columns) == {"rid"}
    assert m.indexes == {"ix_tr": "task_reflections"}
    assert list(m.tables["notes"].foreign_keys.values()) == [(("r",), "task_reflections")]
    dropped = moved("DROP TABLE task_reflections CASCADE; DROP INDEX ix_tr", m)
    assert dropped.tables["notes"].foreign_keys == {} and dropped.indexes == {}


def test_a_not_valid_not_null_check_is_followed_through_validate() -> None:
    m = moved("CREATE TABLE t (c int);ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;")
    assert m.tables["t"].not_valid == {"c_nn": "c"} and m.tables["t"].checked_not_null == set()
    moved("ALTER TABLE t VALIDATE CONSTRAINT c_nn", m)
    assert m.tables["t"].not_valid == {} and m.tables["t"].checked_not_null == {"c"}
    # Without a live catalog, a constraint validated that the model never saw is remembered as such.
    assert moved("ALTER TABLE u VALIDATE CONSTRAINT x").tables["u"].validated_unknown == {"x"}


def test_a_unique_index_of_one_column_is_a_key_and_enum_labels_change_in_place() -> None:
    m = moved(
        "CREATE TABLE t (a int, b int); CREATE UNIQUE INDEX u_a ON t (a);"
        "CREATE UNIQUE INDEX u_b ON t (b) WHERE b > 0;"
        "CREATE TYPE mood AS ENUM ('UP', 'DOWN'); ALTER TYPE mood ADD VALUE 'FLAT';"
        "ALTER TYPE mood RENAME VALUE 'DOWN' TO 'LOW'; CREATE TYPE gone AS ENUM ('X'); DROP TYPE gone;"
        "CREATE VIEW v AS SELECT * FROM t"
    )
    assert m.tables["t"].keys == {"a"} and m.index_columns["u_a"] == ["a"]
    assert m.enums == {"mood": ["UP", "LOW", "FLAT"]} and m.dependent_views("t") == ["v"]
