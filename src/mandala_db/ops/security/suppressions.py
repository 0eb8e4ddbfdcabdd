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
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text", "save the suppressions file as UTF-8") from None
    except OSError as exc:
        raise BadInput(f"the suppressions file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(
            f"{path} is not valid TOML: {exc}", "fix the file; see `mandala-db security --help`"
        ) from None
    entries = doc.get("suppress", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadInput(
            f"{path}: `suppress` must be a list of tables ([[suppress]] entries)",
            "write each suppression as a [[suppress]] table with id, object, reason and expires",
        )
    today = today or date.today()
    active, problems = [], []
    for n, entry in enumerate(entries, start=1):
        for key in ("id", "object", "reason"):
            if key in entry and not isinstance(entry[key], str):
                raise BadInput(
                    f"{path} entry {n}: `{key}` must be a string, not {type(entry[key]).__name__}",
                    f'write it in quotes, e.g. {key} = "..."',
                )
        if "expires" in entry and not isinstance(entry["expires"], date):
            raise BadInput(
                f"{path} entry {n}: `expires` must be a TOML date, not {type(entry['expires']).__name__}",
                "write it unquoted, e.g. expires = 2027-03-31",
            )
        ident = entry.get("id", "")
        label = (
            f"{path} entry {n} ({ident or 'no id'}{' on ' + entry['object'] if entry.get('object') else ''})"
        )
        expires = entry.get("expires")
        if not ident:
            problems.append(f"{label}: no id, suppresses nothing")
        elif not entry.get("reason", "").strip():
            problems.append(f"{label}: no reason, suppresses nothing")
        elif not isinstance(expires, date):
            problems.append(f"{label}: no expiry date (expires = YYYY-MM-DD), suppresses nothing")
        elif expires < today:
            problems.append(f"{label}: expired on {expires.isoformat()}, suppresses nothing")
        else:
            active.append(Suppression(ident, entry.get("object", ""), entry["reason"], expires))
    return active, problems


def apply(findings: list[Finding], suppressions: list[Suppression]) -> None:
    for finding in findings:
        if finding.status != "fail":
            continue
        for s in suppressions:
            if s.covers(finding):
                finding.suppressed = f"{s.reason} (until {s.expires})"
                break
