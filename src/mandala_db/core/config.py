"""Configuration: environments, database URL parsing, and the redaction that keeps passwords out of sight."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from mandala_db.core.errors import BadInput

MASK = "****"


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
        aliases = {"dev": "development", "prod": "production", "stage": "staging"}
        value = aliases.get(raw.strip().lower(), raw.strip().lower())
        try:
            return cls(value)
        except ValueError:
            raise BadInput(
                f"unknown environment {raw!r}",
                "use one of development, test, staging, production",
            ) from None


# Every connection parameter libpq accepts (PostgreSQL 16 documentation, 34.1.2).
LIBPQ_PARAMETERS = frozenset(
    [
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "require_auth",
        "channel_binding",
        "connect_timeout",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "replication",
        "gssencmode",
        "sslmode",
        "requiressl",
        "sslcompression",
        "sslcert",
        "sslkey",
        "sslpassword",
        "sslcertmode",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "requirepeer",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "service",
        "target_session_attrs",
        "load_balance_hosts",
        "sslnegotiation",
    ]
)

# Parameters of the original guide's (Prisma-style) URLs that libpq rejects: the tool applies them itself.
TOOL_PARAMETERS = frozenset({"connection_limit", "pool_timeout", "statement_timeout", "schema", "pgbouncer"})

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+(%[\w.-]+)?$")
# A DNS name or IPv4 address, or an absolute socket directory (percent-encoded in the URL).
_HOSTNAME = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|/[^\0]*)?$")


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


def _positive_int(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise BadInput(f"URL parameter {name}={value!r} must be a whole number of at least 1")
    return int(value)


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed PostgreSQL URL. The password is kept apart so that no rendering of the URL can leak it."""

    user: str | None
    password: str | None = field(repr=False)
    hosts: tuple[tuple[str, int | None], ...]
    dbname: str | None
    params: tuple[tuple[str, str], ...] = ()
    scheme: str = "postgresql"

    # -- parsing ---------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, raw: str) -> DatabaseURL:
        raw = raw.strip()
        scheme, sep, rest = raw.partition("://")
        if not sep:
            raise BadInput(
                "the database URL is malformed: it has no scheme",
                "write it as postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
            )
        scheme = scheme.lower()
        if scheme not in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
            raise BadInput(
                f"the database URL is malformed: unsupported scheme {scheme!r}",
                "mandala-db manages PostgreSQL: use postgresql:// or postgres://",
            )
        authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        if "@" in rest[authority_end:]:
            # An @ after the first / or ? means a raw / or ? in the user or password (libpq itself would
            # cut the URL there): say so without echoing any of it.
            raise BadInput(
                "the database URL is malformed: the user or password holds a raw reserved character (/ or ?)",
                "percent-encode the password: / as %2F, ? as %3F, # as %23, @ as %40, : as %3A",
            )
        rest, _, query = rest.partition("?")
        netloc, _, path = rest.partition("/")
        userinfo, at, hostlist = netloc.rpartition("@")
        user = password = None
        if at:
            u, colon, p = userinfo.partition(":")
            user = unquote(u) or None
            password = unquote(p) if colon else None
        hosts: list[tuple[str, int | None]] = []
        for item in hostlist.split(",") if hostlist else []:
            hosts.append(cls._parse_host(item))
        dbname = unquote(path) or None
        params: list[tuple[str, str]] = []
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key not in LIBPQ_PARAMETERS and key not in TOOL_PARAMETERS:
                raise BadInput(
                    f"the database URL has an unknown parameter {key!r}",
                    "use a libpq parameter (sslmode, connect_timeout, options, ...) or one of "
                    + ", ".join(sorted(TOOL_PARAMETERS)),
                )
            if key == "password":
                password = value
                continue
            params.append((key, value))
        url = cls(user, password, tuple(hosts), dbname, tuple(params), "postgresql")
        url._validate_tool_parameters()
        return url

    @staticmethod
    def raw_secrets(raw: str) -> tuple[str, ...]:
        """The password of a URL that may not parse, as written and decoded, so that whatever error the
        parse raises can be scrubbed of it. Up to the last @, as `parse` reads it, so a password with a raw
        / or ? (which `parse` refuses) is still recognised."""
        userinfo = raw.partition("://")[2].rpartition("@")[0]
        if ":" not in userinfo:
            return ()
        secret = userinfo.partition(":")[2]
        return (secret, unquote(secret))

    @staticmethod
    def _parse_host(item: str) -> tuple[str, int | None]:
        if item.startswith("["):  # [IPv6]:port
            host, closed, port = item[1:].partition("]")
            if not closed or (port and not port.startswith(":")) or not _IPV6.match(host):
                raise BadInput(
                    "the database URL is malformed: an IPv6 host is written [address]:port",
                    "e.g. postgresql://user@[::1]:5432/db",
                )
            port = port.removeprefix(":")
        else:
            host, _, port = item.partition(":")
            if not _HOSTNAME.match(unquote(host)):
                raise BadInput(
                    "the database URL is malformed: the host is not a host name, an address or a socket "
                    "directory",
                    "write it as postgresql://USER:PASSWORD@HOST:PORT/DBNAME (percent-encode the password)",
                )
        if port and not port.isdigit():
            # Never echoed: a password with a raw ':' or '@' can end up here.
            raise BadInput(
                "the database URL is malformed: a port is not a number",
                "write HOST:PORT; percent-encode any : or @ in the password (%3A, %40)",
            )
        if port and not 0 < int(port) < 65536:
            raise BadInput(f"the database URL is malformed: port {port} is out of range")
        return unquote(host), int(port) if port else None

    def _validate_tool_parameters(self) -> None:
        p = self.param_dict
        if "connection_limit" in p:
            _positive_int("connection_limit", p["connection_limit"])
        if "pool_timeout" in p:
            self.pool_timeout  # noqa: B018 - validates
        if "statement_timeout" in p:
            duration_ms("URL parameter statement_timeout", p["statement_timeout"])
        if "schema" in p and not _IDENTIFIER.match(p["schema"]):
            raise BadInput(f"URL parameter schema={p['schema']!r} is not a plain identifier")

    # -- views -----------------------------------------------------------------------------------------
    @property
    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def connection_limit(self) -> int | None:
        value = self.param_dict.get("connection_limit")
        return int(value) if value else None

    @property
    def pool_timeout(self) -> float | None:
        """Seconds to wait for a free pooled connection (Prisma's meaning)."""
        value = self.param_dict.get("pool_timeout")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise BadInput(f"URL parameter pool_timeout={value!r} must be a number of seconds") from None

    @property
    def statement_timeout_ms(self) -> int | None:
        value = self.param_dict.get("statement_timeout")
        return duration_ms("URL parameter statement_timeout", value) if value is not None else None

    @property
    def schema(self) -> str:
        return self.param_dict.get("schema", "public")

    @property
    def host_label(self) -> str:
        """Where the server is, for messages and manifests: host:port, or the socket directory."""
        host = self.param_dict.get("host")
        if self.hosts and self.hosts[0][0]:
            h, port = self.hosts[0]
            return f"{h}:{port or 5432}"
        if host:
            return host
        return "local socket"

    def with_database(self, dbname: str) -> DatabaseURL:
        return replace(self, dbname=dbname)

    def with_password(self, password: str | None) -> DatabaseURL:
        return replace(self, password=password)

    def libpq_params(self, application_name: str | None = None) -> dict[str, str]:
        """Keyword parameters for libpq (psycopg.connect), the tool's own parameters translated or removed."""
        out: dict[str, str] = {}
        if self.hosts:
            out["host"] = ",".join(h for h, _ in self.hosts)
            if any(p for _, p in self.hosts):
                out["port"] = ",".join(str(p or 5432) for _, p in self.hosts)
        if self.user:
            out["user"] = self.user
        if self.dbname:
            out["dbname"] = self.dbname
        options: list[str] = []
        for key, value in self.params:
            if key in TOOL_PARAMETERS:
                continue
            if key == "options":
                options.append(value)
            else:
                out[key] = value
        # statement_timeout and schema are not libpq parameters: they become server settings at startup.
        if self.statement_timeout_ms is not None:
            options.append(f"-c statement_timeout={self.statement_timeout_ms}")
        if "schema" in self.param_dict:
            options.append(f"-c search_path={self.schema}")
        if options:
            out["options"] = " ".join(options)
        if application_name and "application_name" not in out:
            out["application_name"] = application_name
        return out

    def render(self, *, mask: bool = True, with_tool_params: bool = True) -> str:
        """The URL as text; the password is masked unless a caller explicitly needs it (never for display)."""
        auth = ""
        if self.user or self.password:
            auth = quote(self.user or "", safe="")
            if self.password is not None:
                auth += ":" + (MASK if mask else quote(self.password, safe=""))
            auth += "@"
        hosts = ",".join(
            (f"[{h}]" if ":" in h else quote(h, safe="")) + (f":{p}" if p else "") for h, p in self.hosts
        )
        path = "/" + quote(self.dbname, safe="") if self.dbname else "/"
        params = [(k, v) for k, v in self.params if with_tool_params or k not in TOOL_PARAMETERS]
        query = "?" + "&".join(f"{k}={quote(v, safe='/')}" for k, v in params) if params else ""
        return f"{self.scheme}://{auth}{hosts}{path}{query}"

    def __str__(self) -> str:
        return self.render(mask=True)


def redact(text: str, *secrets: str | None) -> str:
    """Remove every secret, and any password embedded in a URL, from a piece of text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
            encoded = quote(secret, safe="")
            if encoded != secret:
                text = text.replace(encoded, MASK)
    return re.sub(r"(postgres(?:ql)?(?:\+\w+)?://[^:/@\s]*:)[^@\s]+@", rf"\1{MASK}@", text)


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


MONITOR_KEYS = {
    # setting: (environment variable, flag)
    "metrics": ("MANDALA_METRICS", "--metrics"),
    "metrics_file": ("MANDALA_METRICS_FILE", "--metrics-file"),
    "pushgateway": ("MANDALA_PUSHGATEWAY_URL", "--pushgateway"),
    "alert_webhook": ("MANDALA_ALERT_WEBHOOK", "--alert-webhook"),
    "alert_sns": ("MANDALA_ALERT_SNS_TOPIC", "--alert-sns"),
    "alert_after": ("MANDALA_ALERT_AFTER", "--alert-after"),
    "alert_backup_age": ("MANDALA_ALERT_BACKUP_AGE", None),
    "alert_timeout": ("MANDALA_ALERT_TIMEOUT", None),
    "namespace": ("MANDALA_METRICS_NAMESPACE", None),
    "log_group": ("MANDALA_LOG_GROUP", None),
}
METRIC_SINKS = ("emf", "cloudwatch", "prometheus")


@dataclass
class MonitorSettings:
    """Metrics, alerts and log shipping. Each setting comes from, weakest first: `[tool.mandala-db]` in
    ./pyproject.toml or ./mandala-db.toml, its environment variable, its flag."""

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

    @staticmethod
    def file_values(directory: Path) -> dict[str, Any]:
        import tomllib

        for name, table in (("mandala-db.toml", None), ("pyproject.toml", ("tool", "mandala-db"))):
            path = directory / name
            if not path.exists():
                continue
            try:
                doc: Any = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise BadInput(f"{path} is not valid TOML: {exc}") from None
            for key in table or ():
                doc = doc.get(key, {}) if isinstance(doc, dict) else {}
            if doc:
                return {str(k).replace("-", "_"): v for k, v in doc.items()}
        return {}

    @classmethod
    def resolve(
        cls, flags: Mapping[str, Any], environ: Mapping[str, str] = os.environ, directory: Path = Path(".")
    ) -> MonitorSettings:
        raw: dict[str, Any] = cls.file_values(directory)
        unknown = sorted(set(raw) - set(MONITOR_KEYS))
        if unknown:
            raise BadInput(
                f"unknown mandala-db setting(s): {', '.join(unknown)}", f"use {', '.join(MONITOR_KEYS)}"
            )
        for key, value in raw.items():
            # A config file's value has a TOML type: text, or for a duration a number too; metrics a list.
            ok_types: tuple[type, ...] = (str,)
            if key in ("alert_after", "alert_backup_age", "alert_timeout"):
                ok_types = (str, int, float)
            elif key == "metrics":
                ok_types = (str, list)
            if not isinstance(value, ok_types) or isinstance(value, bool):
                want = (
                    "a string"
                    if ok_types == (str,)
                    else "a string or a list of strings"
                    if key == "metrics"
                    else 'a duration (a number of seconds or a string such as "30s")'
                )
                raise BadInput(
                    f"[tool.mandala-db] {key.replace('_', '-')} = {value!r} must be {want}, "
                    f"not {type(value).__name__}",
                    "fix the value in pyproject.toml or mandala-db.toml",
                )
            if key == "metrics" and isinstance(value, list) and not all(isinstance(v, str) for v in value):
                raise BadInput(f"[tool.mandala-db] metrics = {value!r} must list strings")
        for key, (variable, _flag) in MONITOR_KEYS.items():
            if environ.get(variable):
                raw[key] = environ[variable]
            if flags.get(key) is not None:
                raw[key] = flags[key]
        out = cls()
        if "metrics" in raw:
            value = raw["metrics"]
            names = value if isinstance(value, list) else str(value).split(",")
            out.metrics = tuple(n.strip().lower() for n in names if str(n).strip())
            bad = [n for n in out.metrics if n not in METRIC_SINKS]
            if bad:
                raise BadInput(
                    f"unknown metrics sink {bad[0]!r}", f"use a comma list of {', '.join(METRIC_SINKS)}"
                )
        for key in ("pushgateway", "alert_webhook", "alert_sns", "namespace", "log_group"):
            if raw.get(key):
                setattr(out, key, str(raw[key]))
        out.log_group_configured = bool(raw.get("log_group"))
        if raw.get("metrics_file"):
            out.metrics_file = Path(str(raw["metrics_file"]))
        for key in ("alert_after", "alert_backup_age", "alert_timeout"):
            if raw.get(key) is not None:
                setattr(
                    out, key, duration_seconds(MONITOR_KEYS[key][1] or MONITOR_KEYS[key][0], str(raw[key]))
                )
        return out


@dataclass
class Settings:
    """Everything a command needs to know about how it was invoked: the options and the environment
    variables, resolved once at start-up (`Settings.resolve`) and read from here by every command."""

    environment: Environment
    database_url: DatabaseURL | None  # None: the embedded server
    state_dir: Path
    json_output: bool = False
    log_format: str = "text"
    assume_yes: bool = False
    verbose: bool = False
    interactive: bool = False
    command: str = "mandala-db"
    backup_dir: Path = Path("backups")  # $BACKUP_DIR
    retention_env: str | None = None  # $BACKUP_RETENTION_DAYS, checked by the one command that uses it
    s3_bucket: str | None = None  # $S3_BACKUP_BUCKET
    security_suppressions: Path | None = (
        None  # $MANDALA_SECURITY_SUPPRESSIONS, else ./security-suppressions.toml
    )
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    cache_dir: Path | None = None  # $MANDALA_CACHE_DIR, else $XDG_CACHE_HOME/mandala-db, else ~/.cache/...

    @staticmethod
    def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
        """Where rendered revisions are kept between runs; MANDALA_CACHE_DIR="" turns the cache off."""
        if "MANDALA_CACHE_DIR" in environ:
            return Path(environ["MANDALA_CACHE_DIR"]) if environ["MANDALA_CACHE_DIR"] else None
        base = environ.get("XDG_CACHE_HOME") or (str(Path.home() / ".cache") if environ.get("HOME") else "")
        return Path(base) / "mandala-db" if base else None

    @property
    def application_name(self) -> str:
        return f"mandala-db:{self.command}"

    def backups_in(self, explicit: str | None) -> Path:
        """Where backups go: the command's --dir/--backup-dir, else $BACKUP_DIR, else ./backups."""
        return Path(explicit) if explicit else self.backup_dir

    def retention_days(self, explicit: int | None) -> int:
        """Days backups are kept: the command's --retention-days, else $BACKUP_RETENTION_DAYS, else 30."""
        if explicit is not None:
            return explicit
        raw = (self.retention_env or "").strip() or "30"
        if not raw.isdigit():
            raise BadInput(
                f"BACKUP_RETENTION_DAYS={raw!r} is not a whole number of days",
                "set it to a number such as 30, or pass --retention-days",
            )
        return int(raw)

    def suppressions_file(self, explicit: Path | None) -> Path | None:
        """The command's --suppressions, else $MANDALA_SECURITY_SUPPRESSIONS, else (None) the default file."""
        return explicit or self.security_suppressions

    def bucket(self, explicit: str | None) -> str | None:
        """The S3 bucket: the command's --s3-bucket, else $S3_BACKUP_BUCKET, else none."""
        return explicit or self.s3_bucket
