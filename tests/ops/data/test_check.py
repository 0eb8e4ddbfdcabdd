"""ops/data/check: the integrity report of the spec. Each planted problem is found and only it; a finding
counts every offending row and shows the first few, in one consistent read-only snapshot."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from conftest import Result
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.data.check import CHECKS, EXAMPLES, Finding, check, check_database


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


PLANTS = {
    "goal_sub_goal_count": "DELETE FROM sub_goals WHERE id = (SELECT id FROM sub_goals ORDER BY id LIMIT 1)",
    "sub_goal_action_count": "DELETE FROM actions WHERE id = (SELECT id FROM actions WHERE position = 3 "
    "ORDER BY id LIMIT 1)",
    "action_progress": "UPDATE actions SET progress = 40 WHERE id = (SELECT action_id FROM tasks "
    "WHERE status = 'COMPLETED' ORDER BY id LIMIT 1)",
    "dangling_progress_history": "INSERT INTO progress_history (entity_type, entity_id, progress) "
    "VALUES ('action', gen_random_uuid(), 10)",
    "dangling_change_history": "INSERT INTO change_history (entity_type, entity_id, user_id, changes) "
    "SELECT 'goal', gen_random_uuid(), id, '[]' FROM users LIMIT 1",
    "dangling_processing_target": "INSERT INTO processing_state (user_id, type, target_id) "
    "SELECT id, 'TASK_GENERATION', gen_random_uuid() FROM users LIMIT 1",
}


@pytest.mark.parametrize("kind", PLANTS)
def test_data_check_finds_each_planted_problem_and_only_it(
    kind: str, deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    ok(cli("seed", "demo"))
    conn.execute(PLANTS[kind])
    result = cli("--json", "data", "check")
    assert result.code == 5
    findings = json.loads(result.stdout)["findings"]
    assert [f["kind"] for f in findings] == [kind]
    assert findings[0]["count"] == 1 and findings[0]["examples"]
    text = cli("data", "check")
    assert text.stdout.startswith(f"{kind}: 1 ")


def test_every_check_has_a_planted_case() -> None:
    assert [kind for kind, _, _ in CHECKS] == list(PLANTS)


def test_a_finding_counts_every_row_and_shows_the_first_few(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    ok(cli("seed", "demo"))
    assert check_database(Database(deployed)) == []
    conn.execute(
        "INSERT INTO progress_history (entity_type, entity_id, progress) "
        "SELECT 'task', gen_random_uuid(), 10 FROM generate_series(1, 5)"
    )
    [finding] = check(conn)
    assert finding.kind == "dangling_progress_history" and finding.count == 5
    assert len(finding.examples) == EXAMPLES
    assert sorted(finding.examples, key=lambda e: e["id"]) == finding.examples  # the same ones each run
    assert all(e["detail"].startswith("task ") for e in finding.examples)
    assert not conn.info.transaction_status  # the snapshot ended: nothing left open


def test_a_finding_line_names_the_kind_the_count_and_the_examples() -> None:
    finding = Finding("goal_sub_goal_count", "goals that do not have exactly 8 sub-goals", 2,
                      [{"id": "g1", "detail": "7 sub-goals"}, {"id": "g2", "detail": "9 sub-goals"}])  # fmt: skip
    assert finding.line() == (
        "goal_sub_goal_count: 2 goals that do not have exactly 8 sub-goals; e.g. g1 (7 sub-goals), g2 (9 sub-goals)"
    )
    assert finding.to_dict()["examples"][1] == {"id": "g2", "detail": "9 sub-goals"}
