"""Server settings a connection can read (pg_settings): TLS, password hashing, logging."""

from __future__ import annotations

from collections.abc import Callable

from mandala_db.ops.security.checks.registry import Check, _setting_check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import Finding, Severity


@check(
    "server.ssl",
    "the server offers TLS",
    "high",
    "postgresql.conf: ssl = on, with ssl_cert_file and ssl_key_file",
    cis="6.8",
)
def _server_ssl(c: Check, facts: Facts) -> list[Finding]:
    value = facts.setting("ssl")
    if value is None:
        return c.skipped("not enough privilege to read ssl")
    if value == "on":
        return c.passed("ssl = on")
    return c.failed(
        "ssl = off: no client can encrypt its connection", severity="high" if not facts.local else "medium"
    )


@check(
    "server.tls-version",
    "TLS 1.2 or newer only",
    "medium",
    "postgresql.conf: ssl_min_protocol_version = 'TLSv1.2'",
    cis="6.9",
)
def _tls_version(c: Check, facts: Facts) -> list[Finding]:
    if facts.setting("ssl") == "off":
        return c.skipped("not applicable: ssl is off")
    return _setting_check(c, facts, "ssl_min_protocol_version", lambda v: v in ("TLSv1.2", "TLSv1.3"))


@check(
    "server.password-encryption",
    "new passwords are stored as SCRAM",
    "high",
    "postgresql.conf: password_encryption = 'scram-sha-256'",
    cis="5.4",
)
def _password_encryption(c: Check, facts: Facts) -> list[Finding]:
    return _setting_check(c, facts, "password_encryption", lambda v: v == "scram-sha-256")


def _log_check(
    name: str, title: str, cis: str, good: Callable[[str], bool], fix: str, severity: Severity = "medium"
) -> None:
    @check(f"log.{name.removeprefix('log_')}", title, severity, fix, cis=cis)
    def _run(c: Check, facts: Facts) -> list[Finding]:
        return _setting_check(c, facts, name, good)


_log_check(
    "log_connections",
    "connections are logged",
    "3.1.20",
    lambda v: v == "on",
    "postgresql.conf: log_connections = on",
)
_log_check(
    "log_disconnections",
    "disconnections are logged",
    "3.1.21",
    lambda v: v == "on",
    "postgresql.conf: log_disconnections = on",
)
_log_check(
    "log_statement",
    "schema changes are logged",
    "3.1.25",
    lambda v: v in ("ddl", "mod", "all"),
    "postgresql.conf: log_statement = 'ddl'",
)
_log_check(
    "log_line_prefix",
    "log lines say when, which process, who, where and from where",
    "3.1.24",
    lambda v: ("%m" in v or "%t" in v) and all(x in v for x in ("%p", "%u", "%d", "%a", "%h")),
    "postgresql.conf: log_line_prefix = '%m [%p] user=%u db=%d app=%a client=%h '",
    severity="low",
)


# -- the other settings pgdsat reads from pg_settings ------------------------------------------------------------------------------------------

_VERBOSE_ENOUGH = ("debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice", "warning")


def _setting_unit(
    name: str,
    ident: str,
    title: str,
    severity: Severity,
    cis: str | None,
    good: Callable[[str], bool],
    fix: str,
) -> None:
    @check(ident, title, severity, fix, cis=cis)
    def _run(c: Check, facts: Facts) -> list[Finding]:
        return _setting_check(c, facts, name, good)


_setting_unit(
    "listen_addresses",
    "server.listen-addresses",
    "the server listens on named interfaces, not every one",
    "medium",
    "5.2",
    lambda v: not ({"*", "0.0.0.0", "::"} & {a.strip() for a in v.split(",")}),
    "postgresql.conf: listen_addresses = 'the interfaces clients use' (not '*')",
)
_setting_unit(
    "log_error_verbosity",
    "log.error-verbosity",
    "errors are logged with their detail",
    "low",
    "3.1.22",
    lambda v: v in ("default", "verbose"),
    "postgresql.conf: log_error_verbosity = 'default'",
)
_setting_unit(
    "log_min_messages",
    "log.min-messages",
    "warnings and worse reach the log",
    "low",
    "3.1.14",
    lambda v: v in _VERBOSE_ENOUGH,
    "postgresql.conf: log_min_messages = 'warning'",
)
_setting_unit(
    "log_min_error_statement",
    "log.min-error-statement",
    "the statement that caused an error is logged",
    "low",
    "3.1.15",
    lambda v: v in (*_VERBOSE_ENOUGH, "error"),
    "postgresql.conf: log_min_error_statement = 'error'",
)
for _name, _cis in (
    ("debug_print_parse", "3.1.16"),
    ("debug_print_rewritten", "3.1.17"),
    ("debug_print_plan", "3.1.18"),
):
    _setting_unit(
        _name,
        f"log.{_name.replace('_', '-')}",
        f"{_name} is off (parse trees in the log hold data)",
        "low",
        _cis,
        lambda v: v == "off",
        f"postgresql.conf: {_name} = off",
    )
_setting_unit(
    "debug_pretty_print",
    "log.debug-pretty-print",
    "debug output, when on, is indented to be read",
    "low",
    "3.1.19",
    lambda v: v == "on",
    "postgresql.conf: debug_pretty_print = on",
)
_setting_unit(
    "log_hostname",
    "log.hostname",
    "client host names are not looked up for the log",
    "low",
    "3.1.23",
    lambda v: v == "off",
    "postgresql.conf: log_hostname = off",
)
_setting_unit(
    "log_file_mode",
    "log.file-mode",
    "log files are readable by the server's user only",
    "low",
    "3.1.6",
    lambda v: v in ("0600", "600"),
    "postgresql.conf: log_file_mode = 0600",
)
_setting_unit(
    "unix_socket_permissions",
    "server.socket-permissions",
    "not every local user can reach the socket",
    "low",
    "8.3",
    lambda v: v not in ("0777", "777"),
    "postgresql.conf: unix_socket_permissions = 0770 (and the socket's group)",
)
_setting_unit(
    "lo_compat_privileges",
    "server.lo-compat-privileges",
    "large objects keep their access checks",
    "medium",
    "6.5",
    lambda v: v == "off",
    "postgresql.conf: lo_compat_privileges = off",
)
_setting_unit(
    "allow_system_table_mods",
    "server.system-table-mods",
    "the system catalogs cannot be altered",
    "medium",
    "6.5",
    lambda v: v == "off",
    "postgresql.conf: allow_system_table_mods = off",
)
_setting_unit(
    "authentication_timeout",
    "server.authentication-timeout",
    "an unfinished login is dropped within a minute",
    "low",
    "6.4",
    lambda v: v.isdigit() and int(v) <= 60,
    "postgresql.conf: authentication_timeout = 60s",
)

_WEAK_CIPHERS = ("NULL", "ENULL", "ANULL", "EXPORT", "EXP", "RC4", "3DES", "DES", "MD5", "DES-CBC3-SHA")


def weak_ciphers(value: str) -> list[str]:
    """The weak cipher families an OpenSSL cipher string turns on: not those it removes (`!`, `-`), nor
    those it only moves to the end of what is already allowed (`+`)."""
    found = []
    for token in value.replace(",", ":").replace(" ", ":").split(":"):
        token = token.strip()
        if not token or token[0] in "!-+":
            continue
        for part in token.upper().split("+"):
            if part in _WEAK_CIPHERS:
                found.append(part)
    return found


@check(
    "server.ssl-ciphers",
    "no weak cipher is offered (NULL, EXPORT, RC4, 3DES)",
    "medium",
    "postgresql.conf: ssl_ciphers = 'HIGH:!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!MD5'",
    cis="6.10",
)
def _ssl_ciphers(c: Check, facts: Facts) -> list[Finding]:
    if facts.setting("ssl") == "off":
        return c.skipped("not applicable: ssl is off")
    value = facts.setting("ssl_ciphers")
    if value is None:
        return c.skipped("not enough privilege: ssl_ciphers is visible only with pg_read_all_settings")
    weak = weak_ciphers(value)
    return (c.failed if weak else c.passed)(
        f"ssl_ciphers = {value!r}" + (f": turns on {', '.join(weak)}" if weak else "")
    )


@check(
    "server.password-check",
    "a password-complexity module is loaded",
    "low",
    "shared_preload_libraries = 'passwordcheck' (or credcheck): weak passwords set with ALTER ROLE are refused",
    cis="5.6",
)
def _password_check(c: Check, facts: Facts) -> list[Finding]:
    libraries = facts.setting("shared_preload_libraries")
    if libraries is None:
        return c.skipped("not enough privilege to read shared_preload_libraries")
    loaded = [m for m in ("passwordcheck", "credcheck") if m in libraries]
    if loaded:
        return c.passed(f"shared_preload_libraries loads {', '.join(loaded)}")
    return c.failed(f"shared_preload_libraries = {libraries!r}: nothing checks a new password's strength "
                    "(a note: passwords set by the tool's users are their own to choose)")  # fmt: skip
