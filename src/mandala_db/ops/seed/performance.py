"""`seed performance`: 1,000 users with 10 complete mandalas each, two tasks under the first action of every
sub-goal, and rows in every table: about 940,000 rows at scale 1 (`--scale` multiplies the users).

Rows are generated lazily, table by table, as ready COPY text: nothing is held in memory, and the only
per-row work is one SHA-1 for each id and a string join.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from mandala_db.ops.seed.rows import Batch, DataSet, make_id

NAME = "performance"
GOALS_PER_USER = 10
TASKS_PER_ACTION = 2  # under the action at position 0 of each sub-goal
N = "\\N"
T0 = datetime(2026, 1, 5, 9, 0)
INDUSTRIES = [
    "TECHNOLOGY",
    "FINANCE",
    "HEALTHCARE",
    "EDUCATION",
    "MANUFACTURING",
    "RETAIL",
    "CONSULTING",
    "GOVERNMENT",
    "NON_PROFIT",
    "OTHER",
]
SIZES = ["STARTUP", "SMALL", "MEDIUM", "LARGE", "ENTERPRISE"]
TASK_STATES = [("NOT_STARTED", "NOT_STARTED"), ("COMPLETED", "IN_PROGRESS"), ("COMPLETED", "COMPLETED")]


def uid(key: str) -> str:
    return make_id(NAME, key)


def action_progress(u: int, g: int, s: int, a: int) -> int:
    if a == 0:  # the action with tasks: its progress is the share of them completed
        return [0, 50, 100][(u + g + s) % 3]
    return (u * 7 + g * 11 + s * 13 + a * 17) % 101


def sub_progress(u: int, g: int, s: int) -> int:
    return round(sum(action_progress(u, g, s, a) for a in range(8)) / 8)


def goal_progress(u: int, g: int) -> int:
    return round(sum(sub_progress(u, g, s) for s in range(8)) / 8)


def build(scale: float = 1.0) -> DataSet:
    users = max(1, round(1000 * scale))
    stamps = [(T0 + timedelta(minutes=u)).isoformat() for u in range(users)]
    goals = users * GOALS_PER_USER

    def user_rows() -> Iterator[tuple[str, ...]]:
        for u in range(users):
            yield (
                uid(f"u{u}"),
                f"user{u:07d}@perf.example.com",
                f"User {u}",
                INDUSTRIES[u % 10],
                SIZES[u % 5],
                "Engineer",
                "Member",
                stamps[u],
                stamps[u],
            )

    def goal_rows() -> Iterator[tuple[str, ...]]:
        for u in range(users):
            for g in range(GOALS_PER_USER):
                p = goal_progress(u, g)
                status = "COMPLETED" if p == 100 else ("PAUSED" if g == 9 else "ACTIVE")
                yield (
                    uid(f"g{u}.{g}"),
                    uid(f"u{u}"),
                    f"Goal {g} of user {u}",
                    "2027-03-31T00:00:00+00:00",
                    status,
                    str(p),
                    stamps[u],
                    stamps[u],
                )

    def sub_goal_rows() -> Iterator[tuple[str, ...]]:
        for u in range(users):
            for g in range(GOALS_PER_USER):
                goal = uid(f"g{u}.{g}")
                for s in range(8):
                    yield (
                        uid(f"s{u}.{g}.{s}"),
                        goal,
                        f"Sub-goal {s}",
                        str(s),
                        str(sub_progress(u, g, s)),
                        stamps[u],
                        stamps[u],
                    )

    def action_rows() -> Iterator[tuple[str, ...]]:
        for u in range(users):
            stamp = stamps[u]
            for g in range(GOALS_PER_USER):
                for s in range(8):
                    sub = uid(f"s{u}.{g}.{s}")
                    for a in range(8):
                        yield (
                            uid(f"a{u}.{g}.{s}.{a}"),
                            sub,
                            f"Action {s}.{a}",
                            "HABIT" if a == 7 else "EXECUTION",
                            str(a),
                            str(action_progress(u, g, s, a)),
                            stamp,
                            stamp,
                        )

    def task_rows() -> Iterator[tuple[str, ...]]:
        for u in range(users):
            for g in range(GOALS_PER_USER):
                for s in range(8):
                    action = uid(f"a{u}.{g}.{s}.0")
                    states = TASK_STATES[(u + g + s) % 3]
                    for t in range(TASKS_PER_ACTION):
                        status = states[t]
                        yield (
                            uid(f"t{u}.{g}.{s}.{t}"),
                            action,
                            f"Task {t} of {s}.0",
                            "EXECUTION",
                            status,
                            str(15 + 15 * t),
                            "2026-06-30T00:00:00+00:00",
                            stamps[u] if status == "COMPLETED" else N,
                            stamps[u],
                            stamps[u],
                        )

    def per_goal(fn: Callable[[int, int, str], tuple[str, ...]]) -> Callable[[], Iterator[tuple[str, ...]]]:
        def rows() -> Iterator[tuple[str, ...]]:
            for u in range(users):
                for g in range(GOALS_PER_USER):
                    yield fn(u, g, stamps[u])

        return rows

    def per_user(fn: Callable[[int, str], tuple[str, ...]]) -> Callable[[], Iterator[tuple[str, ...]]]:
        def rows() -> Iterator[tuple[str, ...]]:
            for u in range(users):
                yield fn(u, stamps[u])

        return rows

    def batch(
        table: str, columns: str, rows: Callable[[], Iterator[tuple[str, ...]]], count: int, key: str = "id"
    ) -> Batch:
        return Batch(table, key, tuple(columns.split()), rows, count, encoded=True)

    sub_goals, actions, tasks = goals * 8, goals * 64, goals * 8 * TASKS_PER_ACTION
    return DataSet(
        NAME,
        [
            batch(
                "users",
                "id email name industry company_size job_type position created_at updated_at",
                user_rows,
                users,
            ),
            batch(
                "goals", "id user_id title deadline status progress created_at updated_at", goal_rows, goals
            ),
            batch(
                "sub_goals",
                "id goal_id title position progress created_at updated_at",
                sub_goal_rows,
                sub_goals,
            ),
            batch(
                "actions",
                "id sub_goal_id title type position progress created_at updated_at",
                action_rows,
                actions,
            ),
            batch(
                "tasks",
                "id action_id title type status estimated_minutes deadline completed_at created_at updated_at",
                task_rows,
                tasks,
            ),
            batch(
                "task_reminders",
                "id task_id remind_at message status",
                per_goal(
                    lambda u, g, t: (
                        uid(f"rem{u}.{g}"),
                        uid(f"t{u}.{g}.0.0"),
                        "2026-07-01T08:00:00+00:00",
                        "Keep going",
                        "PENDING" if g % 2 else "SENT",
                    )
                ),
                goals,
            ),
            batch(
                "task_reflections",
                "id task_id content rating",
                per_goal(
                    lambda u, g, t: (
                        uid(f"tr{u}.{g}"),
                        uid(f"t{u}.{g}.1.1"),
                        "Went as planned",
                        str(1 + (u + g) % 5),
                    )
                ),
                goals,
            ),
            batch(
                "reflections",
                "id goal_id summary regretful_actions",
                per_user(lambda u, t: (uid(f"r{u}"), uid(f"g{u}.0"), "Quarterly review", "None")),
                users,
            ),
            batch(
                "progress_history",
                "id entity_type entity_id progress recorded_at",
                per_goal(
                    lambda u, g, t: (uid(f"ph{u}.{g}"), "goal", uid(f"g{u}.{g}"), str(goal_progress(u, g)), t)
                ),
                goals,
            ),
            batch(
                "change_history",
                "id entity_type entity_id user_id changes",
                per_goal(
                    lambda u, g, t: (
                        uid(f"ch{u}.{g}"),
                        "sub_goal",
                        uid(f"s{u}.{g}.0"),
                        uid(f"u{u}"),
                        '[{"field": "title", "old_value": "Draft", "new_value": "Sub-goal 0"}]',
                    )
                ),
                goals,
            ),
            batch(
                "processing_state",
                "id user_id type status target_id progress",
                per_user(
                    lambda u, t: (
                        uid(f"ps{u}"),
                        uid(f"u{u}"),
                        "ACTION_GENERATION",
                        "COMPLETED",
                        uid(f"s{u}.0.0"),
                        "100",
                    )
                ),
                users,
            ),
            batch(
                "task_notes",
                "id task_id user_id content",
                per_user(lambda u, t: (uid(f"n{u}"), uid(f"t{u}.0.0.0"), uid(f"u{u}"), "Note")),
                users,
            ),
            batch(
                "task_history",
                "id task_id user_id old_status new_status",
                per_user(
                    lambda u, t: (
                        uid(f"th{u}"),
                        uid(f"t{u}.0.0.0"),
                        uid(f"u{u}"),
                        "NOT_STARTED",
                        "IN_PROGRESS",
                    )
                ),
                users,
            ),
            batch(
                "saved_views",
                "id user_id name filters",
                per_user(lambda u, t: (uid(f"v{u}"), uid(f"u{u}"), "Due this week", '{"due": "week"}')),
                users,
            ),
            batch(
                "reminder_logs",
                "id user_id sent_at task_ids email_status",
                per_user(
                    lambda u, t: (uid(f"rl{u}"), uid(f"u{u}"), t, "{" + uid(f"t{u}.0.0.0") + "}", "SENT")
                ),
                users,
            ),
            batch(
                "user_reminder_preferences",
                "user_id enabled mood_preference",
                per_user(lambda u, t: (uid(f"u{u}"), "t" if u % 4 else "f", "STAY_ON_TRACK")),
                users,
                key="user_id",
            ),
            batch(
                "habit_task_reminder_tracking",
                "id task_id last_reminded_at reminder_count iso_year iso_week",
                per_user(lambda u, t: (uid(f"h{u}"), uid(f"t{u}.0.0.0"), t, "1", "2026", str(1 + u % 53))),
                users,
            ),
            batch(
                "workflow_executions",
                "id execution_arn goal_id user_id status start_date input progress_percentage processed_actions "
                "total_actions total_batches",
                per_user(
                    lambda u, t: (
                        uid(f"wf{u}"),
                        f"arn:perf:{u}",
                        uid(f"g{u}.0"),
                        uid(f"u{u}"),
                        "SUCCEEDED",
                        t,
                        "{}",
                        "100",
                        "64",
                        "64",
                        "8",
                    )
                ),
                users,
            ),
        ],
    )
