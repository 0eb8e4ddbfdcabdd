"""core/events.py: the one event stream. A record has the guide's shape (timestamp in milliseconds, level,
message, migrationName, duration, run_id, metadata with the action and environment); every secret the bus
knows is scrubbed from the message and from metadata of any depth, in every form it may take; the JSON sink
keeps debug records for -v, the text sink leaves errors to the CLI's one error line."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote

from conftest import SENTINEL_PASSWORD, assert_no_secret
from mandala_db.core.events import EventBus, json_sink, text_sink


def test_a_record_has_the_guides_shape() -> None:
    seen: list[dict[str, object]] = []
    bus = EventBus(environment="staging", run_id="run42", sinks=[seen.append])
    record = bus.info(
        "migration_complete", "done", migration="20250101000000_x", duration_ms=12.345, rows=3, gone=None
    )
    assert seen == [record]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(record["timestamp"]))
    assert {k: v for k, v in record.items() if k != "timestamp"} == {
        "level": "INFO",
        "message": "done",
        "migrationName": "20250101000000_x",
        "duration": 12.3,
        "run_id": "run42",
        "metadata": {"action": "migration_complete", "environment": "staging", "rows": 3},
    }


def test_every_form_of_a_known_secret_is_scrubbed_from_message_and_metadata() -> None:
    bus = EventBus()
    bus.add_secret(SENTINEL_PASSWORD)
    bus.add_secret(None)  # a URL without a password adds nothing
    record = bus.error(
        "failed",
        f"could not connect as u:{SENTINEL_PASSWORD} ({quote(SENTINEL_PASSWORD, safe='')})",
        detail={"server": [f"password {SENTINEL_PASSWORD} refused"]},
        url="postgresql://u:other-secret@h/db",
    )
    text = json.dumps(record)
    assert_no_secret(text)
    assert "other-secret" not in text  # a password inside any URL, known or not
    assert record["metadata"]["detail"] == {"server": ["password **** refused"]}  # type: ignore[index]


def test_the_json_sink_keeps_debug_for_verbose_and_the_text_sink_leaves_errors_to_the_cli() -> None:
    quiet, loud, text = io.StringIO(), io.StringIO(), io.StringIO()
    bus = EventBus(sinks=[json_sink(quiet), json_sink(loud, verbose=True), text_sink(text)])
    bus.debug("tick", "a heartbeat")
    bus.info("step", "applied", duration_ms=1234)
    bus.warning("slow", "slow sink")
    bus.error("failed", "it failed")
    assert [json.loads(x)["level"] for x in quiet.getvalue().splitlines()] == ["INFO", "WARNING", "ERROR"]
    assert [json.loads(x)["level"] for x in loud.getvalue().splitlines()] == [
        "DEBUG",
        "INFO",
        "WARNING",
        "ERROR",
    ]
    assert text.getvalue() == "applied (1234 ms)\nwarning: slow sink\n"
    debug_text = io.StringIO()
    EventBus(sinks=[text_sink(debug_text, min_level="DEBUG")]).debug("tick", "a heartbeat")
    assert debug_text.getvalue() == "a heartbeat\n"
