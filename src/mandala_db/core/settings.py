"""Where every setting is resolved: `Settings.resolve` takes, weakest first, each setting's default, the
project's settings file (`[tool.mandala-db]` in `pyproject.toml`, or the top of `mandala-db.toml`; read by
core/settings_file), its environment variable, its flag. The table that names each setting once is
core/settings_table; a new setting is one row there, its field on `Settings` (or `MonitorSettings`) and its
use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from mandala_db.core.durations import duration_seconds
from mandala_db.core.errors import BadInput
from mandala_db.core.events import bus
from mandala_db.core.settings_file import FileValues, project_root
from mandala_db.core.settings_table import (
    LOG_FORMATS,
    METRIC_SINKS,
    SETTING,
    SETTINGS,
    Kind,
    Setting,
    markdown_table,
)
from mandala_db.core.url import DatabaseURL

__all__ = [
    "LOG_FORMATS",
    "METRIC_SINKS",
    "SETTING",
    "SETTINGS",
    "Environment",
    "FileValues",
    "Kind",
    "MonitorSettings",
    "Setting",
    "Settings",
    "markdown_table",
    "parse",
    "project_root",
]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def protected(self) -> bool:
        """Environments where data loss is never acceptable as a side effect."""
        return self in (Environment.STAGING, Environment.PRODUCTION)

    @classmethod
    def resolve(cls, explicit: str | None, environ: Mapping[str, str] = os.environ) -> Environment:
        raw = explicit or environ.get("MANDALA_ENV") or environ.get("NODE_ENV") or "development"
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: str) -> Environment:
        aliases = {"dev": "development", "prod": "production", "stage": "staging"}
        value = aliases.get(raw.strip().lower(), raw.strip().lower())
        try:
            return cls(value)
        except ValueError:
            raise BadInput(
                f"unknown environment {raw!r}",
                "use one of development, test, staging, production",
            ) from None


def parse(setting: Setting, value: Any) -> Any:
    """A setting's raw value (text from a flag or variable, or a checked file value) as its field holds it."""
    text = value if isinstance(value, list) else str(value).strip()
    if setting.kind == "path":
        return Path(str(text))
    if setting.kind == "seconds":
        return duration_seconds(setting.label, str(value))
    if setting.kind == "environment":
        return Environment.parse(str(text))
    if setting.kind == "log-format":
        if str(text).lower() not in LOG_FORMATS:
            raise BadInput(f"unknown log format {value!r}", "use text or json")
        return str(text).lower()
    if setting.kind == "days":
        return str(text) or None  # read by the commands that prune (`Settings.retention_days`)
    if setting.kind == "sinks":
        names = text if isinstance(text, list) else str(text).split(",")
        sinks = tuple(n.strip().lower() for n in names if str(n).strip())
        bad = [n for n in sinks if n not in METRIC_SINKS]
        if bad:
            raise BadInput(
                f"unknown metrics sink {bad[0]!r}", f"use a comma list of {', '.join(METRIC_SINKS)}"
            )
        return sinks
    return text or None


@dataclass
class MonitorSettings:
    """Metrics, alerts and log shipping (the rows of `SETTINGS` whose group is "monitor")."""

    metrics: tuple[str, ...] = ()
    metrics_file: Path | None = None
    pushgateway: str | None = None
    alert_webhook: str | None = None
    alert_sns: str | None = None
    alert_after: float = 30.0  # seconds
    alert_backup_age: float = 26 * 3600.0
    alert_timeout: float = 5.0  # the longest an alert sink may delay the command
    namespace: str = "GoalMandala/Migration"
    log_group: str = "/aws/lambda/goal-mandala-migration"
    log_group_configured: bool = False  # named by a setting, not the default

    @property
    def ships_logs(self) -> bool:
        """The log records go to CloudWatch Logs: `logs tail` reads them there."""
        return "cloudwatch" in self.metrics or self.log_group_configured

    @property
    def alerting(self) -> bool:
        return bool(self.alert_webhook or self.alert_sns)

    @property
    def heartbeat_s(self) -> float:
        """Often enough that the duration alert fires close to --alert-after."""
        return max(0.2, min(5.0, self.alert_after / 2))


@dataclass
class Settings:
    """Everything a command needs to know about how it was invoked, resolved once at start-up
    (`Settings.resolve`) and read from here by every command."""

    environment: Environment
    database_url: DatabaseURL | None  # None: the embedded server
    state_dir: Path
    json_output: bool = False
    log_format: str = "text"
    assume_yes: bool = False
    verbose: bool = False
    interactive: bool = False
    command: str = "mandala-db"
    backup_dir: Path = Path("backups")
    backup_retention_days: str | None = None  # checked by the commands that use it: a typo stops only them
    backup_remote: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = "mandala-db"
    security_suppressions: Path | None = None
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    cache_dir: Path | None = None
    file_warnings: list[str] = field(default_factory=list)  # unknown keys in the settings file

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, Any],
        environ: Mapping[str, str] = os.environ,
        cwd: Path | None = None,
        **invocation: Any,
    ) -> Settings:
        """The settings of this invocation. `flags` holds each flag's value by setting name (None: not
        given); `invocation` the facts of the call itself (json_output, assume_yes, verbose, interactive,
        command). The URL's password is registered with the log before it is parsed, so no error can
        echo it."""
        root = project_root(cwd or Path.cwd())
        found = FileValues.read(root)
        out = cls(
            environment=Environment.DEVELOPMENT,
            database_url=None,
            state_dir=root / ".mandala",
            backup_dir=root / "backups",
            security_suppressions=_existing(root / "security-suppressions.toml"),
            cache_dir=_default_cache_dir(environ),
            file_warnings=found.warnings,
            **invocation,
        )
        for setting in SETTINGS:
            raw, source = _raw_value(setting, flags, environ, found.values)
            if source == "":
                continue
            if setting.kind == "url":
                out.database_url = _database_url(raw, source)
                continue
            target: Any = out.monitor if setting.group == "monitor" else out
            if setting.name == "log_group":
                out.monitor.log_group_configured = True  # named by a setting, not the default
            if setting.empty_is_a_value and not str(raw).strip():
                setattr(target, setting.name, None)  # empty where empty says "off"
                continue
            value = parse(setting, raw)
            if value is not None:
                setattr(target, setting.name, value)
        return out

    @property
    def application_name(self) -> str:
        return f"mandala-db:{self.command}"

    def backups_in(self, explicit: str | None) -> Path:
        """Where backups go: the command's --dir/--backup-dir, else the backup_dir setting."""
        return Path(explicit) if explicit else self.backup_dir

    def retention_days(self, explicit: int | None) -> int:
        """Days backups are kept: the command's --retention-days, else BACKUP_RETENTION_DAYS, else 30."""
        if explicit is not None:
            return explicit
        raw = (self.backup_retention_days or "").strip() or "30"
        if not raw.isdigit():
            raise BadInput(
                f"BACKUP_RETENTION_DAYS={raw!r} is not a whole number of days",
                "set it to a number such as 30, or pass --retention-days",
            )
        return int(raw)

    def suppressions_file(self, explicit: Path | None) -> Path | None:
        """The command's --suppressions, else the setting, else (None) no file."""
        return explicit or self.security_suppressions

    def remote(self, explicit: str | None = None, bucket: str | None = None) -> str | None:
        """Where backups are copied, as a storage URL: the command's --remote, else its --s3-bucket, else
        the backup_remote setting, else the s3_bucket one (in the s3_prefix folder), else nowhere."""
        if explicit:
            return explicit
        if not bucket and self.backup_remote:
            return self.backup_remote
        bucket = bucket or self.s3_bucket
        return f"s3://{bucket}/{self.s3_prefix.strip('/')}".rstrip("/") if bucket else None


# A row without its field would be dropped without a word: refuse it where the table is read.
_FIELDS = {f.name for f in fields(Settings)}, {f.name for f in fields(MonitorSettings)}
for _s in SETTINGS:
    if _s.name not in _FIELDS[1 if _s.group == "monitor" else 0]:
        raise AssertionError(f"setting {_s.name} has no field on its settings class")


def _raw_value(
    setting: Setting, flags: Mapping[str, Any], environ: Mapping[str, str], file: Mapping[str, Any]
) -> tuple[Any, str]:
    """The strongest source that gives the setting a value, and which it was ("" for none)."""
    if flags.get(setting.name) is not None:
        return flags[setting.name], "flag"
    for variable in setting.env:
        if variable in environ and (environ[variable].strip() or setting.empty_is_a_value):
            return environ[variable], "env"
    if setting.name in file:
        return file[setting.name], "file"
    return None, ""


def _database_url(raw: Any, source: str) -> DatabaseURL | None:
    text = str(raw)
    if not text.strip():
        if source == "flag":
            raise BadInput(
                "--database-url is empty",
                "give a URL such as postgresql://USER@HOST:5432/DBNAME, or leave the option out "
                "for the embedded server",
            )
        # An empty variable is a secret that did not arrive (a CI environment without it), never a
        # request for "some database".
        raise BadInput(
            "DATABASE_URL is set but empty",
            "set it to the database's URL (postgresql://USER@HOST:5432/DBNAME), or unset it to use the "
            "embedded server in development",
        )
    for secret in DatabaseURL.raw_secrets(text):
        bus.add_secret(secret)
    url = DatabaseURL.parse(text)
    bus.add_secret(url.password)
    return url


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _default_cache_dir(environ: Mapping[str, str]) -> Path | None:
    base = environ.get("XDG_CACHE_HOME") or (
        str(Path(environ["HOME"]) / ".cache") if environ.get("HOME") else ""
    )
    return Path(base) / "mandala-db" if base else None
