"""`data check`: the integrity report of the spec. A complete mandala is 1 goal, 8 sub-goals and 64 actions,
an action's progress follows its tasks, and polymorphic references point at rows that exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core.database import Database

EXAMPLES = 3
TOLERANCE = 5

# Each check: (kind, what it means, SQL yielding (example id, detail) for every offending row).
CHECKS: list[tuple[str, str, str]] = [
    (
        "goal_sub_goal_count",
        "goals that do not have exactly 8 sub-goals",
        """SELECT g.id::text, count(s.id)::text || ' sub-goals'
           FROM goals g LEFT JOIN sub_goals s ON s.goal_id = g.id
           GROUP BY g.id HAVING count(s.id) <> 8""",
    ),
    (
        "sub_goal_action_count",
        "sub-goals that do not have exactly 8 actions",
        """SELECT s.id::text, count(a.id)::text || ' actions'
           FROM sub_goals s LEFT JOIN actions a ON a.sub_goal_id = s.id
           GROUP BY s.id HAVING count(a.id) <> 8""",
    ),
    (
        "action_progress",
        f"actions whose progress differs by more than {TOLERANCE} points from the share of their tasks completed",
        f"""SELECT a.id::text, 'progress ' || a.progress || ', tasks completed '
                  || round(100.0 * count(*) FILTER (WHERE t.status = 'COMPLETED') / count(*)) || '%'
           FROM actions a JOIN tasks t ON t.action_id = a.id
           GROUP BY a.id
           HAVING abs(a.progress - 100.0 * count(*) FILTER (WHERE t.status = 'COMPLETED') / count(*)) > {TOLERANCE}""",
    ),
    (
        "dangling_progress_history",
        "progress_history rows whose entity does not exist",
        """SELECT p.id::text, p.entity_type || ' ' || p.entity_id FROM progress_history p
           WHERE NOT CASE p.entity_type
               WHEN 'goal' THEN EXISTS (SELECT 1 FROM goals x WHERE x.id = p.entity_id)
               WHEN 'sub_goal' THEN EXISTS (SELECT 1 FROM sub_goals x WHERE x.id = p.entity_id)
               WHEN 'action' THEN EXISTS (SELECT 1 FROM actions x WHERE x.id = p.entity_id)
               WHEN 'task' THEN EXISTS (SELECT 1 FROM tasks x WHERE x.id = p.entity_id)
               ELSE false END""",
    ),
    (
        "dangling_change_history",
        "change_history rows whose entity does not exist",
        """SELECT c.id::text, c.entity_type || ' ' || c.entity_id FROM change_history c
           WHERE NOT CASE c.entity_type
               WHEN 'goal' THEN EXISTS (SELECT 1 FROM goals x WHERE x.id = c.entity_id)
               WHEN 'sub_goal' THEN EXISTS (SELECT 1 FROM sub_goals x WHERE x.id = c.entity_id)
               WHEN 'action' THEN EXISTS (SELECT 1 FROM actions x WHERE x.id = c.entity_id)
               ELSE false END""",
    ),
    (
        "dangling_processing_target",
        "processing_state rows whose target does not exist (a goal for sub-goal generation, a sub-goal for "
        "action generation, an action for task generation)",
        """SELECT p.id::text, p.type || ' of ' || p.target_id FROM processing_state p
           WHERE p.target_id IS NOT NULL AND NOT CASE p.type
               WHEN 'SUBGOAL_GENERATION' THEN EXISTS (SELECT 1 FROM goals x WHERE x.id = p.target_id)
               WHEN 'ACTION_GENERATION' THEN EXISTS (SELECT 1 FROM sub_goals x WHERE x.id = p.target_id)
               WHEN 'TASK_GENERATION' THEN EXISTS (SELECT 1 FROM actions x WHERE x.id = p.target_id)
               ELSE false END""",
    ),
]


@dataclass
class Finding:
    kind: str
    description: str
    count: int
    examples: list[dict[str, str]] = field(default_factory=list)

    def line(self) -> str:
        shown = ", ".join(f"{e['id']} ({e['detail']})" for e in self.examples)
        return f"{self.kind}: {self.count} {self.description}; e.g. {shown}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "count": self.count,
            "examples": self.examples,
        }


def check(conn: psycopg.Connection[Any]) -> list[Finding]:
    findings = []
    with conn.transaction():
        # A consistent view of all the checks, without blocking writers.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for kind, description, sql in CHECKS:
            rows = conn.execute(
                f"SELECT id, detail, count(*) OVER () FROM ({sql}) AS found (id, detail) "
                f"ORDER BY id LIMIT {EXAMPLES}"
            ).fetchall()
            if rows:
                findings.append(
                    Finding(kind, description, int(rows[0][2]), [{"id": r[0], "detail": r[1]} for r in rows])
                )
    return findings


def check_database(db: Database) -> list[Finding]:
    """`data check`: the whole integrity report, in one consistent snapshot."""
    with db.connect() as conn:
        return check(conn)
