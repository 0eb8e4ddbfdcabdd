"""Adds one complete mandala (a goal, 8 sub-goals, 64 actions, their tasks) with progress that agrees with
its children at every level, the way the application computes it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mandala_db.ops.seed.rows import Collector


@dataclass
class TaskSpec:
    title: str
    status: str = "NOT_STARTED"
    type: str = "EXECUTION"
    minutes: int = 30


@dataclass
class ActionSpec:
    title: str
    tasks: list[TaskSpec] = field(default_factory=list)
    type: str = "EXECUTION"
    progress: int = 0  # used only when the action has no tasks to derive it from


@dataclass
class MandalaIds:
    goal: str
    sub_goals: list[str]
    actions: list[list[str]]
    tasks: list[str]


def progress_of(tasks: Sequence[TaskSpec], fallback: int) -> int:
    if not tasks:
        return fallback
    return round(100 * sum(t.status == "COMPLETED" for t in tasks) / len(tasks))


def add_mandala(
    c: Collector,
    key: str,
    user_id: str,
    title: str,
    sub_goals: Sequence[tuple[str, Sequence[ActionSpec]]],
    *,
    status: str = "ACTIVE",
    description: str | None = None,
    deadline: datetime | None = None,
    started: datetime = datetime(2026, 1, 5, 9, 0),
) -> MandalaIds:
    assert len(sub_goals) == 8 and all(len(actions) == 8 for _, actions in sub_goals), "a mandala is 8 x 8"
    action_progress = [[progress_of(a.tasks, a.progress) for a in actions] for _, actions in sub_goals]
    sub_progress = [round(sum(p) / 8) for p in action_progress]
    goal_id = c.add(
        "goals",
        key,
        user_id=user_id,
        title=title,
        description=description,
        deadline=deadline,
        status=status,
        progress=round(sum(sub_progress) / 8),
        created_at=started,
    )
    ids = MandalaIds(goal_id, [], [], [])
    for s, (sub_title, actions) in enumerate(sub_goals):
        sub_id = c.add(
            "sub_goals",
            f"{key}:{s}",
            goal_id=goal_id,
            title=sub_title,
            position=s,
            progress=sub_progress[s],
            created_at=started,
        )
        ids.sub_goals.append(sub_id)
        ids.actions.append([])
        for a, action in enumerate(actions):
            action_id = c.add(
                "actions",
                f"{key}:{s}:{a}",
                sub_goal_id=sub_id,
                title=action.title,
                position=a,
                type=action.type,
                progress=action_progress[s][a],
                created_at=started,
            )
            ids.actions[s].append(action_id)
            for t, task in enumerate(action.tasks):
                done = started + timedelta(days=7 * (s + 1) + a)
                ids.tasks.append(
                    c.add(
                        "tasks",
                        f"{key}:{s}:{a}:{t}",
                        action_id=action_id,
                        title=task.title,
                        type=task.type,
                        status=task.status,
                        estimated_minutes=task.minutes,
                        deadline=started + timedelta(days=30 * (s + 1)),
                        completed_at=done if task.status == "COMPLETED" else None,
                        created_at=started,
                    )
                )
    return ids
