"""Every setting of the tool in one table, and the one place they are resolved.

A setting comes from, weakest first: its default, the `[tool.mandala-db]` table of the project's
`pyproject.toml` (or the top of `mandala-db.toml`), its environment variable, its flag. `SETTINGS` names
each once, with its variable, flag, file key, kind (which says how it is parsed and what a file may hold)
and help line; the command line's global options are built from it, and the README's settings table is
held to it by a test. A new setting is one row, its field on `Settings` (or `MonitorSettings`) and its use.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from mandala_db.core.durations import duration_seconds
from mandala_db.core.errors import BadInput
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL

Kind = Literal["text", "path", "url", "environment", "log-format", "seconds", "sinks", "days"]
METRIC_SINKS = ("emf", "cloudwatch", "prometheus")
LOG_FORMATS = ("text", "json")


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


@dataclass(frozen=True)
class Setting:
    name: str  # the field on Settings, or on Settings.monitor when group is "monitor"
    help: str  # the flag's help and the README's description
    default: str  # the default as the README shows it (the value itself is the field's default)
    env: tuple[str, ...] = ()  # the first one set wins
    flag: str | None = None
    key: str | None = None  # in [tool.mandala-db]; None: never read from a file (a secret, a machine fact)
    kind: Kind = "text"
    group: Literal["", "monitor"] = ""
    hidden: bool = False  # left out of --help (kept for tests and tools)
    # An empty variable is no value (a template left blank), except where empty says something: an empty
    # DATABASE_URL is a secret that did not arrive, an empty MANDALA_CACHE_DIR turns the cache off.
    empty_is_a_value: bool = False

    @property
    def label(self) -> str:
        """How an error names the setting: the flag, else the variable."""
        return self.flag or (self.env[0] if self.env else self.name)


# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "The database; with none, the embedded PostgreSQL (development and test only).",
            "the embedded PostgreSQL under `./.mandala/`", env=("DATABASE_URL",), flag="--database-url", kind="url",
            empty_is_a_value=True),
    Setting("environment", "development, test, staging or production.",
            "`development`", env=("MANDALA_ENV", "NODE_ENV"), flag="--env", kind="environment"),
    Setting("log_format", "text or json log lines on stderr.", "`text`",
            env=("MANDALA_LOG_FORMAT",), flag="--log-format", key="log-format", kind="log-format"),
    Setting("state_dir", "Where the embedded server and local state live.",
            "`./.mandala`", env=("MANDALA_STATE_DIR",), flag="--state-dir", key="state-dir", kind="path",
            hidden=True),
    Setting("cache_dir", "Rendered revisions between runs; empty turns the cache off.",
            "`$XDG_CACHE_HOME/mandala-db`, else `~/.cache/mandala-db`", env=("MANDALA_CACHE_DIR",),
            key="cache-dir", kind="path", empty_is_a_value=True),
    Setting("backup_dir", "The backup folder.", "`./backups`", env=("BACKUP_DIR",), key="backup-dir",
            kind="path"),
    Setting("backup_retention_days", "Days backups are kept (read by the commands that prune).", "`30`",
            env=("BACKUP_RETENTION_DAYS",), key="backup-retention-days", kind="days"),
    Setting("backup_remote", "Where backups are copied: s3://bucket/prefix or file:///folder (a mounted share).",
            "none", env=("BACKUP_REMOTE",), key="backup-remote"),
    Setting("s3_bucket", "The guide's way to name the remote: s3://BUCKET/PREFIX.", "none",
            env=("S3_BACKUP_BUCKET",), key="s3-bucket"),
    Setting("s3_prefix", "The folder in the bucket that `s3-bucket` names.", "`mandala-db`",
            env=("S3_BACKUP_PREFIX",), key="s3-prefix"),
    Setting("security_suppressions", "The reviewed file of suppressed security findings.",
            "`./security-suppressions.toml`", env=("MANDALA_SECURITY_SUPPRESSIONS",),
            key="security-suppressions", kind="path"),
    Setting("metrics", "Metric sinks: emf, cloudwatch, prometheus (a comma list).",
            "none: `emf`, `cloudwatch`, `prometheus`", env=("MANDALA_METRICS",), flag="--metrics",
            key="metrics", kind="sinks", group="monitor"),
    Setting("metrics_file", "EMF lines, or the Prometheus textfile.",
            "EMF on stdout (stderr beside `--json`)", env=("MANDALA_METRICS_FILE",), flag="--metrics-file",
            key="metrics-file", kind="path", group="monitor"),
    Setting("pushgateway", "Push metrics to this Pushgateway.",
            "none (implies `prometheus`)", env=("MANDALA_PUSHGATEWAY_URL",), flag="--pushgateway",
            key="pushgateway", group="monitor"),
    Setting("alert_webhook", "POST alerts here.", "none",
            env=("MANDALA_ALERT_WEBHOOK",), flag="--alert-webhook", key="alert-webhook", group="monitor"),
    Setting("alert_sns", "Publish alerts to this SNS topic.", "none",
            env=("MANDALA_ALERT_SNS_TOPIC",), flag="--alert-sns", key="alert-sns", group="monitor"),
    Setting("alert_after", "Alert when a revision runs longer.",
            "`30s` (a bare number is seconds)", env=("MANDALA_ALERT_AFTER",), flag="--alert-after",
            key="alert-after", kind="seconds", group="monitor"),
    Setting("alert_backup_age", "A backup older than this alerts (`backup stats`).", "`26h`",
            env=("MANDALA_ALERT_BACKUP_AGE",), key="alert-backup-age", kind="seconds", group="monitor"),
    Setting("alert_timeout", "The longest a metrics or alert sink may wait.", "`5s`",
            env=("MANDALA_ALERT_TIMEOUT",), key="alert-timeout", kind="seconds", group="monitor"),
    Setting("namespace", "The CloudWatch namespace.", "`GoalMandala/Migration`",
            env=("MANDALA_METRICS_NAMESPACE",), key="namespace", group="monitor"),
    Setting("log_group", "The CloudWatch log group.", "`/aws/lambda/goal-mandala-migration`",
            env=("MANDALA_LOG_GROUP",), key="log-group", group="monitor"),
)
# fmt: on
BY_KEY = {s.key: s for s in SETTINGS if s.key}

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


SETTING = {s.name: s for s in SETTINGS}

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


def markdown_table() -> str:
    """The README's settings table, written from `SETTINGS` (a test holds the README to it)."""

    def cell(text: str | None) -> str:
        return f"`{text}`" if text else ""

    rows = [
        "| setting | meaning | `[tool.mandala-db]` key | variable | flag | default |",
        "|---|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        variables = ", ".join(f"`{v}`" for v in s.env)
        rows.append(f"| {s.name} | {s.help} | {cell(s.key)} | {variables} | {cell(s.flag)} | {s.default} |")
    return "\n".join(rows)
