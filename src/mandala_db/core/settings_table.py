"""The table of settings: one row per setting, with its variable(s), flag, key in `[tool.mandala-db]`, kind
(how it is parsed and what a file may hold), the default the README shows and its help line. The command
line's global options and the README's settings table are written from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "path", "url", "environment", "log-format", "seconds", "sinks", "days"]
METRIC_SINKS = ("emf", "cloudwatch", "prometheus")
LOG_FORMATS = ("text", "json")


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
SETTING = {s.name: s for s in SETTINGS}


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
