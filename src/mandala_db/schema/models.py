"""SQLAlchemy models of the goal-mandala schema (shared/spec/schema.md): 18 tables, 12 enums, one trigger
(what they are built from: schema/base.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mandala_db.schema import enums as E
from mandala_db.schema.base import (
    SET_UPDATED_AT_FUNCTION,
    TZ,
    Base,
    WithCreated,
    WithId,
    WithTimestamps,
    fk,
    label,
    metadata,
    nonnegative,
    one_of,
    pg_enum,
    progress_check,
    updated_at_trigger_sql,
)

__all__ = ["Base", "metadata"]


class User(WithId, WithTimestamps, Base):
    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    industry: Mapped[E.UserIndustry | None] = mapped_column(pg_enum(E.UserIndustry, "user_industry"))
    company_size: Mapped[E.CompanySize | None] = mapped_column(pg_enum(E.CompanySize, "company_size"))
    job_type: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (Index("uq_users_lower_email", func.lower(text("email")), unique=True),)


class Goal(WithId, WithTimestamps, Base):
    __tablename__ = "goals"
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(TZ)
    background: Mapped[str | None] = mapped_column(Text)
    constraints: Mapped[str | None] = mapped_column(Text)
    status: Mapped[E.GoalStatus] = mapped_column(
        pg_enum(E.GoalStatus, "goal_status"), nullable=False, server_default=label(E.GoalStatus.ACTIVE)
    )
    progress: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    __table_args__ = (
        progress_check(),
        Index(None, "user_id", "status"),
        Index(None, "user_id", "created_at"),
    )


class SubGoal(WithId, WithTimestamps, Base):
    __tablename__ = "sub_goals"
    goal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("goals"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    background: Mapped[str | None] = mapped_column(Text)
    constraints: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    progress: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    __table_args__ = (
        CheckConstraint("position BETWEEN 0 AND 7", name="position_range"),
        progress_check(),
        UniqueConstraint("goal_id", "position"),
    )


class Action(WithId, WithTimestamps, Base):
    __tablename__ = "actions"
    sub_goal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("sub_goals"), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    background: Mapped[str | None] = mapped_column(Text)
    constraints: Mapped[str | None] = mapped_column(Text)
    type: Mapped[E.ActionType] = mapped_column(
        pg_enum(E.ActionType, "action_type"), nullable=False, server_default=label(E.ActionType.EXECUTION)
    )
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    progress: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    __table_args__ = (
        CheckConstraint("position BETWEEN 0 AND 7", name="position_range"),
        progress_check(),
        UniqueConstraint("sub_goal_id", "position"),
    )


class Task(WithId, WithTimestamps, Base):
    __tablename__ = "tasks"
    action_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("actions"), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[E.TaskType] = mapped_column(
        pg_enum(E.TaskType, "task_type"), nullable=False, server_default=label(E.TaskType.EXECUTION)
    )
    status: Mapped[E.TaskStatus] = mapped_column(
        pg_enum(E.TaskStatus, "task_status"), nullable=False, server_default=label(E.TaskStatus.NOT_STARTED)
    )
    estimated_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    deadline: Mapped[datetime | None] = mapped_column(TZ)
    completed_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (
        CheckConstraint("estimated_minutes > 0", name="estimated_minutes_positive"),
        Index(None, "action_id", "status"),
        Index(None, "status"),
        Index(None, "deadline"),
        Index(None, "created_at"),
    )


class TaskReminder(WithId, WithTimestamps, Base):
    __tablename__ = "task_reminders"
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("tasks"), nullable=False)
    remind_at: Mapped[datetime] = mapped_column(TZ, nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[E.ReminderStatus] = mapped_column(
        pg_enum(E.ReminderStatus, "reminder_status"),
        nullable=False,
        server_default=label(E.ReminderStatus.PENDING),
    )
    sent_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (
        Index(None, "task_id", "remind_at"),
        # The reminder sender's queue: only pending reminders, ordered by time.
        Index("ix_task_reminders_remind_at", "remind_at", postgresql_where=text("status = 'PENDING'")),
    )


class TaskReflection(WithId, WithTimestamps, Base):
    __tablename__ = "task_reflections"
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("tasks"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index(None, "task_id", "created_at"),
    )


class Reflection(WithId, WithTimestamps, Base):
    """Goal-level reflection (revision 7 split the old task-level table into task_reflections)."""

    __tablename__ = "reflections"
    goal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("goals"), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    regretful_actions: Mapped[str | None] = mapped_column(Text)
    slow_progress_actions: Mapped[str | None] = mapped_column(Text)
    untouched_actions: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_reflections_goal_id_created_at", "goal_id", text("created_at DESC")),)


class ProgressHistory(WithId, WithCreated, Base):
    __tablename__ = "progress_history"
    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    progress: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(TZ, nullable=False, server_default=func.now())
    __table_args__ = (
        one_of("entity_type", "goal", "sub_goal", "action", "task"),
        progress_check(),
        Index(None, "entity_type", "entity_id", "recorded_at"),
        Index(None, "recorded_at"),
    )


class ChangeHistory(WithId, WithCreated, Base):
    __tablename__ = "change_history"
    entity_type: Mapped[str] = mapped_column(String(20), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(TZ, nullable=False, server_default=func.now())
    # An array of {field, old_value, new_value}.
    changes: Mapped[Any] = mapped_column(JSONB, nullable=False)
    __table_args__ = (
        one_of("entity_type", "goal", "sub_goal", "action"),
        Index(None, "entity_type", "entity_id", "changed_at"),
        Index(None, "user_id", "changed_at"),
    )


class ProcessingState(WithId, WithTimestamps, Base):
    __tablename__ = "processing_state"
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    type: Mapped[E.ProcessingType] = mapped_column(
        pg_enum(E.ProcessingType, "processing_type"), nullable=False
    )
    status: Mapped[E.ProcessingStatus] = mapped_column(
        pg_enum(E.ProcessingStatus, "processing_status"),
        nullable=False,
        server_default=label(E.ProcessingStatus.PENDING),
    )
    target_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    progress: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    result: Mapped[Any | None] = mapped_column(JSONB)
    error: Mapped[Any | None] = mapped_column(JSONB)
    retry_count: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    completed_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (
        progress_check(),
        nonnegative("retry_count"),
        Index(None, "user_id", "created_at"),
        Index(None, "status", "created_at"),
        Index(None, "type", "status"),
    )


class TaskNote(WithId, WithTimestamps, Base):
    __tablename__ = "task_notes"
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("tasks"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (Index(None, "task_id"), Index(None, "created_at"))


class TaskHistory(WithId, Base):
    __tablename__ = "task_history"
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("tasks"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    old_status: Mapped[E.TaskStatus] = mapped_column(pg_enum(E.TaskStatus, "task_status"), nullable=False)
    new_status: Mapped[E.TaskStatus] = mapped_column(pg_enum(E.TaskStatus, "task_status"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(TZ, nullable=False, server_default=func.now())
    __table_args__ = (Index(None, "task_id"), Index(None, "changed_at"))


class SavedView(WithId, WithTimestamps, Base):
    __tablename__ = "saved_views"
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    filters: Mapped[Any] = mapped_column(JSONB, nullable=False)
    search_query: Mapped[str | None] = mapped_column(String(255))
    __table_args__ = (Index(None, "user_id"), Index(None, "created_at"))


class ReminderLog(WithId, WithTimestamps, Base):
    __tablename__ = "reminder_logs"
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(TZ, nullable=False)
    task_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")
    )
    email_status: Mapped[E.EmailStatus] = mapped_column(
        pg_enum(E.EmailStatus, "email_status"), nullable=False
    )
    message_id: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    __table_args__ = (
        nonnegative("retry_count"),
        Index(None, "user_id", "sent_at"),
        Index(None, "email_status"),
        Index(None, "sent_at"),
    )


class UserReminderPreference(WithTimestamps, Base):
    __tablename__ = "user_reminder_preferences"
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), fk("users"), primary_key=True, sort_order=-10
    )
    enabled: Mapped[bool] = mapped_column(nullable=False, server_default=text("true"))
    mood_preference: Mapped[E.MoodPreference | None] = mapped_column(
        pg_enum(E.MoodPreference, "mood_preference")
    )
    last_reminder_sent_at: Mapped[datetime | None] = mapped_column(TZ)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (Index(None, "enabled"), Index(None, "last_reminder_sent_at"))


class HabitTaskReminderTracking(WithId, WithTimestamps, Base):
    __tablename__ = "habit_task_reminder_tracking"
    task_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("tasks"), nullable=False)
    last_reminded_at: Mapped[datetime] = mapped_column(TZ, nullable=False)
    reminder_count: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    iso_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    iso_week: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    __table_args__ = (
        nonnegative("reminder_count"),
        CheckConstraint("iso_week BETWEEN 1 AND 53", name="iso_week_range"),
        UniqueConstraint("task_id", "iso_year", "iso_week"),
        Index(None, "last_reminded_at"),
    )


class WorkflowExecution(WithId, WithTimestamps, Base):
    __tablename__ = "workflow_executions"
    execution_arn: Mapped[str] = mapped_column(String(500), nullable=False)
    goal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("goals"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), fk("users"), nullable=False)
    status: Mapped[E.WorkflowStatus] = mapped_column(
        pg_enum(E.WorkflowStatus, "workflow_status"),
        nullable=False,
        server_default=label(E.WorkflowStatus.RUNNING),
    )
    start_date: Mapped[datetime] = mapped_column(TZ, nullable=False)
    stop_date: Mapped[datetime | None] = mapped_column(TZ)
    input: Mapped[Any] = mapped_column(JSONB, nullable=False)
    output: Mapped[Any | None] = mapped_column(JSONB)
    progress_percentage: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    processed_actions: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    total_actions: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    current_batch: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("0"))
    total_batches: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    estimated_time_remaining: Mapped[int] = mapped_column(nullable=False, server_default=text("0"))  # seconds
    expires_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (
        UniqueConstraint("execution_arn"),
        progress_check("progress_percentage"),
        CheckConstraint("processed_actions <= total_actions", name="processed_within_total"),
        Index(None, "goal_id", "created_at"),
        Index(None, "user_id", "created_at"),
        Index(None, "status", "created_at"),
        Index(
            "ix_workflow_executions_expires_at", "expires_at", postgresql_where=text("expires_at IS NOT NULL")
        ),
    )


# The updated_at trigger (schema/base.py) on every table above that has the column, created with it.
event.listen(metadata, "before_create", DDL(SET_UPDATED_AT_FUNCTION))  # type: ignore[no-untyped-call]
event.listen(metadata, "after_drop", DDL("DROP FUNCTION IF EXISTS set_updated_at()"))  # type: ignore[no-untyped-call]
for _table in metadata.sorted_tables:
    if "updated_at" in _table.c:
        event.listen(_table, "after_create", DDL(updated_at_trigger_sql(_table.name)))  # type: ignore[no-untyped-call]
