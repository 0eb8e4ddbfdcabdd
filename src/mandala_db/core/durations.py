"""Durations as people write them (`500ms`, `30s`, `5min`, `2h`): one parser, and the two readings of a bare
number (milliseconds, as PostgreSQL's own timeouts read it; seconds, for the tool's own settings)."""

from __future__ import annotations

import re

from mandala_db.core.errors import BadInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$")

_UNIT_NAMES = {"ms": "milliseconds", "s": "seconds"}
_LONGEST_MS = 10 * 365 * 86_400_000  # ten years: anything longer is a typo, and overflows a date
_PG_LONGEST_MS = 2_147_483_647  # what PostgreSQL's timeout settings hold (INT_MAX milliseconds)


def duration_ms(what: str, value: str, bare: str = "ms", longest_ms: int = _LONGEST_MS) -> int:
    """The one duration parser. PostgreSQL-style: a bare number is milliseconds, as statement_timeout
    itself reads it (the tool's own settings say `bare="s"`); `what` names the option in the error, and
    the hint says which unit a bare number means for it."""
    example = "30" if bare == "s" else "30000"
    hint = f"write e.g. {example} ({_UNIT_NAMES[bare]}), 500ms, 30s, 5min or 2h"
    m = _DURATION.match(value)
    if not m:
        raise BadInput(f"{what} {value!r} is not a duration", hint)
    number, unit = float(m.group(1)), m.group(2) or bare
    ms = int(number * {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}[unit])
    if ms > longest_ms:
        most = f"{longest_ms // 3_600_000:,} h" if longest_ms >= 3_600_000 else f"{longest_ms} ms"
        raise BadInput(f"{what} {value!r} is too long (at most {most})", hint)
    return ms


def duration_seconds(what: str, value: str) -> float:
    """A setting of the tool's own, where a bare number is seconds."""
    return duration_ms(what, value, bare="s") / 1000


def duration(what: str, value: str) -> str:
    """A duration checked by `duration_ms` and kept as written, for PostgreSQL to read (SET ... = '5s')."""
    duration_ms(what, value, longest_ms=_PG_LONGEST_MS)
    return value.strip()
