"""Waivers: a comment in the revision (or `.sql` file) that names a rule and gives a reason,
    # mandala-db: allow non-concurrent-index: the table is created empty by this revision
    -- mandala-db: allow truncate: the staging copy is rebuilt nightly
A waiver without a reason, or naming a rule that does not exist, waives nothing and is itself an error
(`bad-waiver`), so a typo cannot silently switch a rule off."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"(?:#|--)\s*mandala-db\s*:(.*)$")
_WAIVER = re.compile(r"\s*allow\s+([a-z0-9][a-z0-9-]*)\s*(?::\s*(.*?))?\s*$")


@dataclass(frozen=True)
class Waivers:
    granted: dict[str, str]  # rule -> reason
    problems: list[tuple[int, str]]  # (line, what is wrong)


def read_waivers(source: str, rules: Container[str]) -> Waivers:
    granted: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(source.splitlines(), 1):
        directive = _DIRECTIVE.search(line)
        if not directive:
            continue
        m = _WAIVER.fullmatch(directive.group(1))
        if not m:
            problems.append((number, f"cannot read `{line.strip()}`"))
        elif m.group(1) not in rules or m.group(1) == "bad-waiver":
            problems.append((number, f"waives `{m.group(1)}`, which is not a rule"))
        elif not (m.group(2) or "").strip():
            problems.append((number, f"waives `{m.group(1)}` without a reason after a colon"))
        else:
            granted[m.group(1)] = m.group(2).strip()
    return Waivers(granted, problems)
