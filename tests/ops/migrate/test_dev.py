"""`migrate dev` in a copy of the project: it writes one revision for what the models changed, including
what Alembic's autogenerate misses, applies it, and writes nothing when there is nothing to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import edit, in_project, run_cli
from mandala_db.core.url import DatabaseURL


def versions(project: Path) -> set[str]:
    return {p.name for p in (project / "src" / "mandala_db" / "migrations" / "versions").glob("*.py")}


dev_cli = in_project


def test_a_new_column_and_check_become_one_revision_and_a_second_run_writes_nothing(
    project: Path, db_url: DatabaseURL
) -> None:
    edit(
        project,
        "schema/models.py",
        """    completed_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (""",
        """    completed_at: Mapped[datetime | None] = mapped_column(TZ)
    priority: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("3"))
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),""",
    )
    shipped = versions(project)
    first = dev_cli(project, db_url, "migrate", "dev", "add_x")
    assert first.code == 0, first.output
    new = versions(project) - shipped
    assert len(new) == 1 and next(iter(new)).endswith("_add_x.py")
    text = (project / "src/mandala_db/migrations/versions" / next(iter(new))).read_text()
    assert "ALTER TABLE tasks ADD COLUMN priority smallint DEFAULT 3 NOT NULL" in text
    assert "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_priority_range CHECK" in text
    assert "destructive_downgrade" in text  # going back drops the column and its values
    prisma = (
        project / "src/mandala_db/migrations/schema.prisma"
    ).read_text()  # the application's view, current
    assert "  priority Int @default(3) @db.SmallInt" in prisma
    status = dev_cli(project, db_url, "migrate", "status")
    assert "up to date" in status.stdout and next(iter(new))[:-3] in status.stdout

    second = dev_cli(project, db_url, "migrate", "dev", "add_x_again")
    assert second.code == 0, second.output
    assert "No changes" in second.stdout
    assert versions(project) - shipped == new
    assert dev_cli(project, db_url, "migrate", "validate").code == 0


def test_what_autogenerate_misses_is_generated_and_reverted_exactly(
    project: Path, db_url: DatabaseURL
) -> None:
    # A server default, a new enum label, a partial and a functional index, and a new table with a trigger.
    edit(
        project,
        "schema/models.py",
        "server_default=label(E.GoalStatus.ACTIVE)",
        "server_default=label(E.GoalStatus.PAUSED)",
    )
    edit(
        project,
        "schema/enums.py",
        '    CANCELLED = "CANCELLED"\n\n\nclass ActionType',
        '    CANCELLED = "CANCELLED"\n    ARCHIVED = "ARCHIVED"\n\n\nclass ActionType',
    )
    edit(
        project,
        "schema/models.py",
        '        Index(None, "deadline"),',
        """        Index(None, "deadline"),
        Index("ix_tasks_open_deadline", "deadline", postgresql_where=text("completed_at IS NULL")),
        Index("ix_tasks_lower_title", func.lower(text("title"))),""",
    )
    edit(
        project,
        "schema/models.py",
        "# The updated_at trigger",
        """class TaskTag(WithId, WithTimestamps, Base):
    __tablename__ = "task_tags"
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("tasks"), nullable=False)
    tag: Mapped[str] = mapped_column(String(50), nullable=False)


# The updated_at trigger""",
    )
    shipped = versions(project)
    result = dev_cli(project, db_url, "migrate", "dev", "misc")
    assert result.code == 0, result.output
    (new,) = versions(project) - shipped
    text = (project / "src/mandala_db/migrations/versions" / new).read_text()
    for expected in (
        "ALTER TABLE goals ALTER COLUMN status SET DEFAULT 'PAUSED'::goal_status",
        "ALTER TYPE goal_status ADD VALUE 'ARCHIVED'",
        "WHERE (completed_at IS NULL)",
        "lower((title)::text)",
        "CREATE TABLE task_tags",
        "CREATE TRIGGER trg_task_tags_set_updated_at",
        "fk_task_tags_task_id_tasks",
    ):
        assert expected in text, expected
    assert dev_cli(project, db_url, "migrate", "validate").code == 0
    # The downgrade is the same renderer reversed: back to the shipped head, the schema is exact again.
    back = dev_cli(project, db_url, "--yes", "migrate", "rollback", "to", "split_reflections")
    assert back.code == 0, back.output
    assert run_cli("migrate", "validate", url=db_url).code == 0


def test_an_enum_label_removed_is_refused_with_what_was_found(project: Path, db_url: DatabaseURL) -> None:
    edit(project, "schema/enums.py", '    PAUSED = "PAUSED"\n', "")
    shipped = versions(project)
    result = dev_cli(project, db_url, "migrate", "dev", "drop_paused")
    assert result.code == 3, result.output
    assert "enum goal_status: labels PAUSED removed" in result.stderr
    assert "--empty" in result.stderr
    assert versions(project) == shipped


def test_dev_is_refused_outside_development(db_url: DatabaseURL, cli: Any) -> None:
    result = cli("--env", "staging", "migrate", "dev")
    assert result.code == 3
    assert "migrate dev is for development" in result.stderr


def test_empty_revision_is_written_for_hand_editing(project: Path, db_url: DatabaseURL) -> None:
    shipped = versions(project)
    result = dev_cli(project, db_url, "migrate", "dev", "by_hand", "--empty")
    assert result.code == 0, result.output
    (new,) = versions(project) - shipped
    assert new.endswith("_by_hand.py")
    assert "UPGRADE = []" in (project / "src/mandala_db/migrations/versions" / new).read_text()


def test_a_revision_that_loses_data_needs_confirmation(project: Path, db_url: DatabaseURL) -> None:
    edit(project, "schema/models.py", "    job_type: Mapped[str | None] = mapped_column(String(100))\n", "")
    shipped = versions(project)
    refused = dev_cli(project, db_url, "migrate", "dev", "drop_job_type")
    assert refused.code == 3, refused.output
    assert "drops column users.job_type and its data" in refused.stderr
    assert versions(project) == shipped
    accepted = dev_cli(project, db_url, "--yes", "migrate", "dev", "drop_job_type")
    assert accepted.code == 0, accepted.output
    assert len(versions(project) - shipped) == 1


def test_a_likely_rename_is_named_in_the_question_with_the_flag_that_keeps_the_data(
    project: Path, db_url: DatabaseURL
) -> None:
    edit(project, "schema/models.py", "    job_type: Mapped[str | None] = mapped_column(String(100))\n",
         "    job_title: Mapped[str | None] = mapped_column(String(100))\n")  # fmt: skip
    refused = dev_cli(project, db_url, "migrate", "dev", "job_title")
    assert refused.code == 3 and "drops column users.job_type and its data" in refused.stderr
    assert "--rename users.job_type=job_title" in refused.stderr


def test_a_hostile_revision_name_is_only_ever_a_string(project: Path, db_url: DatabaseURL) -> None:
    """A name that would close the docstring and run code, or leave a file Python cannot read: the name
    reaches the file only as an escaped literal, the file is parsed before it is kept, and nothing runs."""
    pwned = project / "PWNED"
    edit(
        project,
        "schema/models.py",
        "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n    __table_args__ = (",
        "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n"
        "    priority: Mapped[int | None] = mapped_column(SmallInteger)\n    __table_args__ = (",
    )
    shipped = versions(project)
    hostile = f'x"""\nimport pathlib; pathlib.Path({str(pwned)!r}).touch()\n"""\\'
    made = dev_cli(project, db_url, "migrate", "dev", hostile)
    assert made.code == 0, made.output
    (new,) = versions(project) - shipped
    source = (project / "src/mandala_db/migrations/versions" / new).read_text()
    import ast

    module = ast.parse(source)
    names = {
        t.id: n.value
        for n in module.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert ast.literal_eval(names["name"]) == hostile  # the name, kept whole, as a string
    for command in (
        ["migrate", "status"],
        ["migrate", "validate"],
        ["migrate", "deploy"],
        ["migrate", "rollback", "list"],
    ):
        result = dev_cli(project, db_url, *command)
        assert result.code == 0, result.output
    assert not pwned.exists()
