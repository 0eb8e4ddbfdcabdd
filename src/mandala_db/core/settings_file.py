"""The project's settings file: where the project is (as git finds `.git`), and what its `mandala-db.toml`
or `[tool.mandala-db]` holds, each key checked against the table (unknown: one warning naming the nearest
known key; a wrong type: bad input)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core.errors import BadInput
from mandala_db.core.settings_table import BY_KEY, Setting

# What a file may hold for each kind (TOML has types; the environment and flags are text).
_FILE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "seconds": ((str, int, float), 'a duration (a number of seconds or a string such as "30s")'),
    "sinks": ((str, list), "a string or a list of strings"),
    "days": ((int, str), "a whole number of days"),
}


def project_root(start: Path) -> Path:
    """The project a command belongs to, found the way git finds `.git`: the nearest folder at or above
    `start` with a `.mandala/` (the embedded server's state) or a `mandala-db.toml`, or a `pyproject.toml`
    that declares `[tool.mandala-db]`. Without one, `start` itself. Run from a sub-folder, a command uses the
    project's server, backups, alert state, settings and suppressions, not new ones of its own."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".mandala").is_dir() or (folder / "mandala-db.toml").is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        try:
            if pyproject.is_file() and "[tool.mandala-db]" in pyproject.read_text(
                encoding="utf-8", errors="replace"
            ):
                return folder
        except OSError:
            continue
    return start


@dataclass
class FileValues:
    """What the project's settings file holds, checked against the table: the known keys with values of
    the right type, and one warning for each key the table does not know."""

    values: dict[str, Any] = field(default_factory=dict)  # by setting name
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, directory: Path) -> FileValues:
        import tomllib

        out = cls()
        for name, table in (("mandala-db.toml", ()), ("pyproject.toml", ("tool", "mandala-db"))):
            path = directory / name
            if not path.exists():
                continue
            try:
                doc: Any = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise BadInput(f"{path} is not valid TOML: {exc}") from None
            for part in table:
                doc = doc.get(part, {}) if isinstance(doc, dict) else {}
            if not doc:
                continue
            for raw_key, value in doc.items():
                key = str(raw_key).replace("_", "-")
                setting = BY_KEY.get(key)
                if setting is None:
                    # A key from a newer version, or a typo: said once, and never a reason to stop.
                    near = difflib.get_close_matches(key, list(BY_KEY), n=1)
                    out.warnings.append(
                        f"unknown setting {key!r} in {name} (ignored)"
                        + (f": did you mean {near[0]!r}?" if near else f"; known: {', '.join(BY_KEY)}")
                    )
                    continue
                out.values[setting.name] = _checked_file_value(setting, value)
            return out
        return out


def _checked_file_value(setting: Setting, value: Any) -> Any:
    ok_types, want = _FILE_TYPES.get(setting.kind, ((str,), "a string"))
    if not isinstance(value, ok_types) or isinstance(value, bool):
        raise BadInput(
            f"[tool.mandala-db] {setting.key} = {value!r} must be {want}, not {type(value).__name__}",
            "fix the value in pyproject.toml or mandala-db.toml",
        )
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise BadInput(f"[tool.mandala-db] {setting.key} = {value!r} must list strings")
    return value
