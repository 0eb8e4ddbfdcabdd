"""core/durations.py: the one duration parser. `500ms`, `30s`, `5min`, `2h`; a bare number is milliseconds
for PostgreSQL's timeouts and seconds for the tool's own settings, and the hint of an error says which."""

from __future__ import annotations

import pytest

from mandala_db.core.durations import duration, duration_ms, duration_seconds
from mandala_db.core.errors import BadInput


@pytest.mark.parametrize(
    ("text", "ms"), [("500ms", 500), ("30s", 30_000), ("5min", 300_000), ("2h", 7_200_000), (" 1.5s ", 1500)]
)
def test_every_unit_is_read(text: str, ms: int) -> None:
    assert duration_ms("--x", text) == ms


def test_a_bare_number_is_milliseconds_for_postgresql_and_seconds_for_the_tool() -> None:
    assert duration_ms("--lock-timeout", "30") == 30
    assert duration_seconds("--since", "30") == 30.0
    assert duration("--lock-timeout", " 5s ") == "5s"  # kept as written, for SET lock_timeout = '5s'


@pytest.mark.parametrize(
    ("call", "says", "hint"),
    [
        (
            lambda: duration_ms("--lock-timeout", "soon"),
            "--lock-timeout 'soon' is not a duration",
            "30000 (milliseconds)",
        ),
        (lambda: duration_seconds("--since", "-1s"), "is not a duration", "30 (seconds)"),
        (
            lambda: duration_seconds("--since", "99999999999h"),
            "is too long (at most 87,600 h)",
            "30 (seconds)",
        ),
        (lambda: duration("--statement-timeout", "600h"), "is too long (at most 596 h)", "milliseconds"),
    ],
)
def test_what_is_not_a_duration_or_is_absurd_is_bad_input_with_the_unit_in_the_hint(
    call: object, says: str, hint: str
) -> None:
    with pytest.raises(BadInput) as caught:
        call()  # type: ignore[operator]
    assert says in caught.value.message and hint in (caught.value.hint or "")
