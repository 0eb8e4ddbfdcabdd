"""The PostgreSQL enum types of the data model, as Python enums (member names are the labels, in order)."""

from __future__ import annotations

import enum


class UserIndustry(enum.Enum):
    TECHNOLOGY = "TECHNOLOGY"
    FINANCE = "FINANCE"
    HEALTHCARE = "HEALTHCARE"
    EDUCATION = "EDUCATION"
    MANUFACTURING = "MANUFACTURING"
    RETAIL = "RETAIL"
    CONSULTING = "CONSULTING"
    GOVERNMENT = "GOVERNMENT"
    NON_PROFIT = "NON_PROFIT"
    OTHER = "OTHER"


class CompanySize(enum.Enum):
    STARTUP = "STARTUP"  # 1-10
    SMALL = "SMALL"  # 11-50
    MEDIUM = "MEDIUM"  # 51-200
    LARGE = "LARGE"  # 201-1000
    ENTERPRISE = "ENTERPRISE"  # 1000+


class GoalStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    PAUSED = "PAUSED"
    CANCELLED = "CANCELLED"


class ActionType(enum.Enum):
    EXECUTION = "EXECUTION"
    HABIT = "HABIT"


class TaskType(enum.Enum):
    EXECUTION = "EXECUTION"
    HABIT = "HABIT"


class TaskStatus(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"


class ReminderStatus(enum.Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class EmailStatus(enum.Enum):
    SENT = "SENT"
    FAILED = "FAILED"
    BOUNCED = "BOUNCED"


class MoodPreference(enum.Enum):
    STAY_ON_TRACK = "STAY_ON_TRACK"
    CHANGE_PACE = "CHANGE_PACE"


class ProcessingType(enum.Enum):
    SUBGOAL_GENERATION = "SUBGOAL_GENERATION"
    ACTION_GENERATION = "ACTION_GENERATION"
    TASK_GENERATION = "TASK_GENERATION"


class ProcessingStatus(enum.Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"


class WorkflowStatus(enum.Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


# PostgreSQL type name for each enum, in the order the spec lists them.
PG_ENUMS: dict[str, type[enum.Enum]] = {
    "user_industry": UserIndustry,
    "company_size": CompanySize,
    "goal_status": GoalStatus,
    "action_type": ActionType,
    "task_type": TaskType,
    "task_status": TaskStatus,
    "reminder_status": ReminderStatus,
    "email_status": EmailStatus,
    "mood_preference": MoodPreference,
    "processing_type": ProcessingType,
    "processing_status": ProcessingStatus,
    "workflow_status": WorkflowStatus,
}
