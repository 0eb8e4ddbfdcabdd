"""cli/logs: `mandala-db logs tail`, the guide's `aws logs tail ... --follow`. Without CloudWatch it reads
the run ledger: one line a record (time, level, message, duration), or with --json the structured record;
--filter keeps the records that contain the text; a --since that is not a duration is bad input."""

from __future__ import annotations

import json
from typing import Any

from mandala_db.core.url import DatabaseURL


def test_the_ledger_is_tailed_one_line_a_record(deployed: DatabaseURL, cli: Any) -> None:
    result = cli("logs", "tail", "--since", "24h")
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("20250409000000_split_reflections" in ln for ln in lines)
    assert all((ln[:4].isdigit() and " INFO " in ln) or " ERROR " in ln or " WARN" in ln for ln in lines), (
        lines
    )


def test_json_records_and_a_filter(deployed: DatabaseURL, cli: Any) -> None:
    result = cli("--json", "logs", "tail", "--since", "24h", "--filter", "split_reflections")
    assert result.code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all("split_reflections" in json.dumps(r, ensure_ascii=False) for r in records)
    assert {"timestamp", "level", "message"} <= set(records[0])


def test_a_since_that_is_not_a_duration_is_bad_input(deployed: DatabaseURL, cli: Any) -> None:
    result = cli("logs", "tail", "--since", "yesterday")
    assert result.code == 2 and "--since 'yesterday' is not a duration" in result.stderr
