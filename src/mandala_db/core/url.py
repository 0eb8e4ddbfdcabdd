"""Database URLs: parsing (libpq's parameters and the guide's Prisma-style ones), rendering with the password
masked, the parameters libpq is given, and the redaction that keeps passwords out of every text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote

from mandala_db.core.durations import duration_ms
from mandala_db.core.errors import BadInput

MASK = "****"

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

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+(%[\w.-]+)?$")
# A DNS name or IPv4 address, or an absolute socket directory (percent-encoded in the URL).
_HOSTNAME = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?|/[^\0]*)?$")


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
