"""autodetector/tables: tables created whole, columns altered one change at a time with the warning a
reviewer needs, gone tables dropped in one statement and named as a loss; views and sequences reported."""

from __future__ import annotations

from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides
from mandala_db.ops.migrate.autodetector.tables import alter_columns, create, drop, report_ungenerated


def tasks(**columns: Column) -> Snapshot:
    return Snapshot("public", tables={"tasks": Table(columns=dict(columns))})


def altered(target: Snapshot, current: Snapshot) -> Plan:
    plan = Plan()
    alter_columns(plan, Sides(target, current))
    return plan


def test_a_new_table_is_created_with_its_columns_in_model_order() -> None:
    plan = Plan()
    create(
        plan,
        Sides(
            tasks(id=Column("uuid", False, "gen_random_uuid()"), title=Column("text", True, None)),
            Snapshot("public"),
        ),
    )
    assert plan.statements == [
        "CREATE TABLE tasks (\n    id uuid DEFAULT gen_random_uuid() NOT NULL,\n    title text\n)"
    ]


def test_a_type_change_drops_and_sets_the_default_around_it_and_warns_of_a_rewrite() -> None:
    plan = altered(tasks(m=Column("integer", False, "30")), tasks(m=Column("smallint", False, "30")))
    assert plan.statements == [
        "ALTER TABLE tasks ALTER COLUMN m DROP DEFAULT",
        "ALTER TABLE tasks ALTER COLUMN m TYPE integer USING m::integer",
        "ALTER TABLE tasks ALTER COLUMN m SET DEFAULT 30",
    ]
    assert plan.warnings == ["tasks.m changes type smallint -> integer: may rewrite the table"]


def test_a_type_change_that_keeps_the_stored_values_has_no_using_clause_and_no_warning() -> None:
    # USING always rewrites; varchar growth and varchar to text do not, as PostgreSQL skips the rewrite.
    grown = altered(tasks(t=Column("character varying(300)", False, None)),
                    tasks(t=Column("character varying(200)", False, None)))  # fmt: skip
    assert grown.statements == ["ALTER TABLE tasks ALTER COLUMN t TYPE character varying(300)"]
    to_text = altered(
        tasks(t=Column("text", True, None)), tasks(t=Column("character varying(200)", True, None))
    )
    assert to_text.statements == ["ALTER TABLE tasks ALTER COLUMN t TYPE text"] and to_text.warnings == []


def test_defaults_and_nullability_change_in_place() -> None:
    plan = altered(tasks(m=Column("integer", True, None)), tasks(m=Column("integer", False, "0")))
    assert plan.statements == [
        "ALTER TABLE tasks ALTER COLUMN m DROP DEFAULT",
        "ALTER TABLE tasks ALTER COLUMN m DROP NOT NULL",
    ]
    assert plan.warnings == [] and plan.destructive == []


def test_an_identity_change_is_refused_not_guessed() -> None:
    plan = altered(
        tasks(id=Column("bigint", False, None, identity="a")), tasks(id=Column("bigint", False, None))
    )
    assert plan.statements == []
    assert plan.unrenderable == ["column tasks.id: identity or generated expression changed"]


def test_a_new_not_null_column_with_a_default_or_identity_needs_no_warning() -> None:
    plan = altered(
        tasks(a=Column("integer", False, "0"), b=Column("bigint", False, None, identity="d")), tasks()
    )
    assert len(plan.statements) == 2 and plan.warnings == []


def test_gone_tables_go_in_one_statement_and_each_is_named_as_a_loss() -> None:
    plan = Plan()
    current = Snapshot("public", tables={"reminders": Table(), "notes": Table()})
    drop(plan, Sides(Snapshot("public"), current))
    assert plan.statements == ["DROP TABLE notes, reminders"]
    assert plan.destructive == [
        "drops table notes and every row in it",
        "drops table reminders and every row in it",
    ]


def test_a_sequence_on_either_side_only_is_reported_for_a_hand_written_step() -> None:
    plan = Plan()
    report_ungenerated(plan, Sides(Snapshot("public"), Snapshot("public", sequences=["ticket_no"])))
    assert plan.unrenderable == [
        "sequence ticket_no: views and sequences are not generated; write them by hand"
    ]
