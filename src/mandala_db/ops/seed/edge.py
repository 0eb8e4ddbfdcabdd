"""`seed test`: boundary and edge values. Shortest and longest strings, progress 0 and 100, every enum
label at least once, every table at least one row, and still nothing `data check` would report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from itertools import pairwise

from mandala_db.ops.seed.mandala import ActionSpec, TaskSpec, add_mandala
from mandala_db.ops.seed.rows import Collector, DataSet, Json
from mandala_db.schema import enums as E

T0 = datetime(2026, 1, 1)


def labels(enum: type[Enum]) -> list[str]:
    return [m.value for m in enum]


def build(scale: float = 1.0) -> DataSet:
    c = Collector("test")
    users = []
    for i, industry in enumerate(labels(E.UserIndustry)):
        sizes = [*labels(E.CompanySize), None]
        name = "A" if i == 0 else ("N" * 100 if i == 1 else f"User {i}")
        email = "a@b.c" if i == 0 else ("x" * 243 + "@example.com" if i == 1 else f"user{i}@example.com")
        users.append(
            c.add(
                "users",
                f"u{i}",
                email=email,
                name=name,
                industry=industry,
                company_size=sizes[i % len(sizes)],
                job_type="J" * 100 if i == 1 else None,
                position="P" * 100 if i == 1 else None,
            )
        )
    c.add(
        "users",
        "no-industry",
        email="nobody@example.com",
        name="No industry",
        industry=None,
        company_size=None,
    )

    task_statuses = labels(E.TaskStatus)
    goals = []
    plans: list[tuple[str, Callable[[int, int], list[TaskSpec]]]] = [  # (status, how its tasks look)
        (
            "COMPLETED",
            lambda s, a: [TaskSpec("T" * 255 if (s, a) == (0, 0) else "t", "COMPLETED", "HABIT", 32767)],
        ),
        ("ACTIVE", lambda s, a: []),
        ("PAUSED", lambda s, a: [TaskSpec(f"task {s}.{a}", task_statuses[(s + a) % 4], "EXECUTION", 1)]),
        ("CANCELLED", lambda s, a: [TaskSpec("skipped", "SKIPPED")]),
    ]
    for g, (status, tasks_for) in enumerate(plans):
        sub_goals = [
            (
                ("S" * 200 if s == 0 else "s") if g == 0 else f"sub-goal {s}",
                [
                    ActionSpec(
                        "A" * 200 if (g, s, a) == (0, 0, 0) else f"action {a}",
                        tasks_for(s, a),
                        type="HABIT" if a % 2 else "EXECUTION",
                    )
                    for a in range(8)
                ],
            )
            for s in range(8)
        ]
        title = {0: "G" * 200, 1: "g"}.get(g, f"goal {g}")
        goals.append(add_mandala(c, f"goal{g}", users[g], title, sub_goals, status=status, started=T0))
    done, active, paused = goals[0], goals[1], goals[2]

    for i, status in enumerate(labels(E.ReminderStatus)):
        c.add(
            "task_reminders",
            f"rem{i}",
            task_id=paused.tasks[i],
            remind_at=T0,
            message="m" if i else None,
            status=status,
            sent_at=T0 if status == "SENT" else None,
        )
    for i, rating in enumerate([1, 5, None]):
        c.add("task_reflections", f"tr{i}", task_id=done.tasks[i], content="c" * (1 + 999 * i), rating=rating)
    c.add(
        "reflections",
        "r",
        goal_id=done.goal,
        summary="s",
        regretful_actions="",
        slow_progress_actions=None,
        untouched_actions="u" * 2000,
    )
    entities = {
        "goal": done.goal,
        "sub_goal": done.sub_goals[0],
        "action": done.actions[0][0],
        "task": done.tasks[0],
    }
    for i, (kind, entity) in enumerate(entities.items()):
        c.add(
            "progress_history",
            f"ph{i}",
            entity_type=kind,
            entity_id=entity,
            progress=100 if i % 2 else 0,
            recorded_at=T0,
        )
        if kind != "task":
            c.add(
                "change_history",
                f"ch{i}",
                entity_type=kind,
                entity_id=entity,
                user_id=users[0],
                changes=Json([{"field": "title", "old_value": None, "new_value": "x"}]),
            )
    targets = {
        "SUBGOAL_GENERATION": active.goal,
        "ACTION_GENERATION": active.sub_goals[0],
        "TASK_GENERATION": active.actions[0][0],
    }
    for i, status in enumerate(labels(E.ProcessingStatus)):
        kind = labels(E.ProcessingType)[i % 3]
        c.add(
            "processing_state",
            f"ps{i}",
            user_id=users[1],
            type=kind,
            status=status,
            target_id=targets[kind] if i < 5 else None,
            progress=100 if status == "COMPLETED" else 0,
            result={"ok": True} if status == "COMPLETED" else None,
            error={"message": "boom"} if status == "FAILED" else None,
            retry_count=32767 if i == 3 else 0,
        )
    c.add("task_notes", "note", task_id=paused.tasks[0], user_id=users[2], content="n")
    for i, (old, new) in enumerate(pairwise(task_statuses)):
        c.add(
            "task_history",
            f"th{i}",
            task_id=paused.tasks[0],
            user_id=users[2],
            old_status=old,
            new_status=new,
        )
    c.add("saved_views", "view", user_id=users[0], name="v" * 255, filters={}, search_query="q" * 255)
    for i, status in enumerate(labels(E.EmailStatus)):
        c.add(
            "reminder_logs",
            f"log{i}",
            user_id=users[i],
            sent_at=T0,
            task_ids=[] if i == 0 else [paused.tasks[0], paused.tasks[1]],
            email_status=status,
            message_id=None if status == "FAILED" else f"msg-{i}",
            error_message="bounced" if status == "BOUNCED" else None,
            retry_count=i,
        )
    for i, mood in enumerate([*labels(E.MoodPreference), None]):
        c.add(
            "user_reminder_preferences",
            user_id=users[i],
            enabled=i != 1,
            mood_preference=mood,
            last_reminder_sent_at=T0 if i == 0 else None,
        )
    for week in (1, 53):
        c.add(
            "habit_task_reminder_tracking",
            f"habit{week}",
            task_id=done.tasks[0],
            last_reminded_at=T0,
            reminder_count=0 if week == 1 else 32767,
            iso_year=2026,
            iso_week=week,
        )
    for i, status in enumerate(labels(E.WorkflowStatus)):
        c.add(
            "workflow_executions",
            f"wf{i}",
            execution_arn="a" * 500 if i == 0 else f"arn:test:{i}",
            goal_id=done.goal,
            user_id=users[0],
            status=status,
            start_date=T0,
            stop_date=None if status == "RUNNING" else T0,
            input={},
            output=None,
            progress_percentage=100 if status == "SUCCEEDED" else 0,
            processed_actions=64 if i == 1 else 0,
            total_actions=64,
            total_batches=8,
            estimated_time_remaining=2_147_483_647 if i == 0 else 0,
            expires_at=T0 if i == 2 else None,
        )
    return c.build()
