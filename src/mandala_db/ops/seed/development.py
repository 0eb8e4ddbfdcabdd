"""`seed development`: three users (two company employees, a student) and one complete mandala with
tasks, reminders, a reflection, progress history and change history."""

from __future__ import annotations

from datetime import datetime

from mandala_db.ops.seed.mandala import ActionSpec, TaskSpec, add_mandala
from mandala_db.ops.seed.rows import Collector, DataSet, Json

SUB_GOALS = [
    "System design",
    "Code quality",
    "Mentoring",
    "Communication",
    "Domain knowledge",
    "Operations",
    "Health",
    "Learning",
]
STATUSES = ["COMPLETED", "COMPLETED", "IN_PROGRESS", "NOT_STARTED"]


def build(scale: float = 1.0) -> DataSet:
    c = Collector("development")
    taro = c.add(
        "users",
        "taro",
        email="taro.yamada@example.com",
        name="山田 太郎",
        industry="TECHNOLOGY",
        company_size="MEDIUM",
        job_type="Backend engineer",
        position="Engineer",
    )
    c.add(
        "users",
        "hanako",
        email="hanako.suzuki@example.com",
        name="鈴木 花子",
        industry="FINANCE",
        company_size="LARGE",
        job_type="Product manager",
        position="Manager",
    )
    c.add(
        "users",
        "ken",
        email="ken.sato@example.ac.jp",
        name="佐藤 健",
        industry="EDUCATION",
        job_type="Student",
        position=None,
    )
    sub_goals = []
    for s, sub in enumerate(SUB_GOALS):
        actions = []
        for a in range(8):
            # The first three sub-goals have tasks in every state; the rest are not broken down yet.
            tasks = (
                [
                    TaskSpec(f"{sub} {a + 1}: task {t + 1}", STATUSES[(s + a + t) % 4], minutes=15 * (t + 1))
                    for t in range(2)
                ]
                if s < 3
                else []
            )
            actions.append(
                ActionSpec(f"{sub}: practice {a + 1}", tasks, type="HABIT" if a == 7 else "EXECUTION")
            )
        sub_goals.append((sub, actions))
    m = add_mandala(
        c,
        "goal",
        taro,
        "Become a senior engineer by April 2027",
        sub_goals,
        description="Lead the design of a service end to end",
        deadline=datetime(2027, 4, 1),
    )
    for i, task in enumerate(m.tasks[:4]):
        c.add(
            "task_reminders",
            f"reminder:{i}",
            task_id=task,
            remind_at=datetime(2026, 12, 1 + i, 9),
            message="Time for this task",
            status="PENDING" if i else "SENT",
            sent_at=None if i else datetime(2026, 12, 1, 9),
        )
    c.add("task_reflections", "task-reflection", task_id=m.tasks[0], content="Smaller steps worked", rating=4)
    c.add(
        "reflections",
        "reflection",
        goal_id=m.goal,
        summary="A steady first quarter",
        regretful_actions="Skipped code reviews in March",
        slow_progress_actions="Mentoring",
        untouched_actions="Operations",
    )
    for week in range(4):
        c.add(
            "progress_history",
            f"progress:{week}",
            entity_type="goal",
            entity_id=m.goal,
            progress=5 * week,
            recorded_at=datetime(2026, 1, 5 + 7 * week),
        )
    c.add(
        "change_history",
        "change",
        entity_type="goal",
        entity_id=m.goal,
        user_id=taro,
        changes=Json(
            [
                {
                    "field": "title",
                    "old_value": "Become a senior engineer",
                    "new_value": "Become a senior engineer by April 2027",
                }
            ]
        ),
        changed_at=datetime(2026, 1, 6),
    )
    return c.build()
