"""Suppressions: findings a team has looked at and accepted, kept in a reviewed file in the repository.

    # security-suppressions.toml
    [[suppress]]
    id = "role.application"          # the finding's id
    object = "role postgres"         # the object it names ("" or absent: every object)
    reason = "CI database, no network"
    expires = 2027-03-31             # a TOML date; after it the finding counts again

A suppression without a reason, without an expiry, or expired suppresses nothing and is reported, so an
exception cannot outlive the reason it was granted for.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mandala_db.core.errors import BadInput
from mandala_db.ops.security.findings import Finding

DEFAULT_FILE = Path("security-suppressions.toml")


@dataclass(frozen=True)
class Suppression:
    id: str
    object: str
    reason: str
    expires: date | None

    def covers(self, finding: Finding) -> bool:
        return finding.id == self.id and (not self.object or self.object == finding.object)


def load(path: Path | None, today: date | None = None) -> tuple[list[Suppression], list[str]]:
    """The suppressions in force, and a line for each one that is not (expired, no reason, no expiry)."""
    if path is None:
        path = DEFAULT_FILE if DEFAULT_FILE.exists() else None
        if path is None:
            return [], []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(
            f"the suppressions file {path} does not exist", "check the path given to --suppressions"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(
            f"{path} is not valid TOML: {exc}", "fix the file; see `mandala-db security --help`"
        ) from None
    today = today or date.today()
    active, problems = [], []
    for n, entry in enumerate(doc.get("suppress", []), start=1):
        ident = str(entry.get("id", ""))
        label = (
            f"{path} entry {n} ({ident or 'no id'}{' on ' + entry['object'] if entry.get('object') else ''})"
        )
        expires = entry.get("expires")
        if not ident:
            problems.append(f"{label}: no id, suppresses nothing")
        elif not str(entry.get("reason", "")).strip():
            problems.append(f"{label}: no reason, suppresses nothing")
        elif not isinstance(expires, date):
            problems.append(f"{label}: no expiry date (expires = YYYY-MM-DD), suppresses nothing")
        elif expires < today:
            problems.append(f"{label}: expired on {expires.isoformat()}, suppresses nothing")
        else:
            active.append(Suppression(ident, str(entry.get("object", "")), str(entry["reason"]), expires))
    return active, problems


def apply(findings: list[Finding], suppressions: list[Suppression]) -> None:
    for finding in findings:
        if finding.status != "fail":
            continue
        for s in suppressions:
            if s.covers(finding):
                finding.suppressed = f"{s.reason} (until {s.expires})"
                break
