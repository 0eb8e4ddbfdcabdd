"""This connection: its encryption, how the client authenticates the server, whether the server refuses
plaintext (proved by a probe), and the bounds the URL sets."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mandala_db.core.database import Database
from mandala_db.ops.security.checks.registry import NOT_LOCAL, Check, check
from mandala_db.ops.security.facts import Facts, uses_socket
from mandala_db.ops.security.findings import Finding


@check(
    "conn.encrypted",
    "this session is encrypted",
    "high",
    "connect with sslmode=verify-full (and sslrootcert); the server needs ssl = on",
    cis="6.8",
)
def _session_encrypted(c: Check, facts: Facts) -> list[Finding]:
    on, version = facts.session_ssl
    if on:
        return c.passed(f"pg_stat_ssl: encrypted with {version}")
    if facts.local:
        return c.skipped(NOT_LOCAL)
    return c.failed(
        "pg_stat_ssl: this session is not encrypted: passwords and data cross the network in clear"
    )


@check(
    "conn.sslmode",
    "the client authenticates the server (sslmode=verify-full)",
    "high",
    "add sslmode=verify-full&sslrootcert=/path/to/ca.pem to the URL",
)
def _sslmode(c: Check, facts: Facts) -> list[Finding]:
    mode = facts.db.url.param_dict.get("sslmode")
    if mode == "verify-full":
        verified = (
            " and the session is encrypted: the server's certificate was verified"
            if facts.session_ssl[0]
            else ""
        )
        return c.passed(f"sslmode=verify-full{verified}")
    if mode is None and facts.local:
        return c.skipped(NOT_LOCAL)
    if mode == "verify-ca":
        return c.failed("sslmode=verify-ca checks the CA but not the host name", severity="low")
    if mode == "require":
        return c.failed(
            "sslmode=require encrypts but does not authenticate the server: a man in the middle passes",
            severity="medium",
        )
    return c.failed(
        f"sslmode={mode or 'prefer (the default)'}: libpq may fall back to an unencrypted connection"
    )


@check(
    "conn.plaintext-refused",
    "the server refuses an unencrypted connection",
    "high",
    "pg_hba.conf: use hostssl (not host) lines for every TCP rule, or add hostnossl ... reject first",
    cis="6.8",
)
def _plaintext_probe(c: Check, facts: Facts) -> list[Finding]:
    """Proved, not inferred: one extra connection with sslmode=disable, which needs no privilege."""
    url = facts.db.url
    if uses_socket(url):
        return c.skipped("not applicable: a Unix socket carries no TLS")
    params = tuple((k, v) for k, v in url.params if k not in ("sslmode", "connect_timeout"))
    plain = Database(
        replace(url, params=(*params, ("sslmode", "disable"), ("connect_timeout", "5"))),
        "mandala-db:security-probe",
    )
    try:
        with plain.connect():
            pass
    except Exception as exc:  # refused or unreachable: which one is in the server's words
        text = str(getattr(exc, "message", "") or exc)
        if "no encryption" in text or "SSL" in text or "pg_hba.conf" in text:
            return c.passed(f"a connection with sslmode=disable was refused by the server{_as(url)}")
        return c.skipped(
            f"the probe could not connect for another reason: {text.splitlines()[0] if text else exc}"
        )
    return c.failed(
        f"a connection with sslmode=disable was accepted{_as(url)}: this role may talk to this database in clear",
        severity="high" if not facts.local else "medium",
    )


@check(
    "conn.timeouts",
    "the URL bounds connecting and statements",
    "low",
    "add connect_timeout=10 and statement_timeout=30s (the tool applies it; libpq clients: options=-c statement_timeout=30000)",
)
def _timeouts(c: Check, facts: Facts) -> list[Finding]:
    p = facts.db.url.param_dict
    has_statement = "statement_timeout" in p or "statement_timeout" in p.get("options", "")
    missing = [
        n
        for n, ok in (("connect_timeout", "connect_timeout" in p), ("statement_timeout", has_statement))
        if not ok
    ]
    if missing:
        return c.failed(
            f"missing: {', '.join(missing)} (a hung server or query would hold the client forever)"
        )
    return c.passed("connect_timeout and statement_timeout are set")


@check(
    "conn.pool",
    "the URL sizes the pool",
    "low",
    "add connection_limit=N&pool_timeout=S (the guide's pool parameters; the tool applies them itself)",
)
def _pool(c: Check, facts: Facts) -> list[Finding]:
    p = facts.db.url.param_dict
    if "connection_limit" in p and "pool_timeout" in p:
        return c.passed(f"connection_limit={p['connection_limit']}, pool_timeout={p['pool_timeout']}")
    return c.failed(
        "connection_limit and pool_timeout are not both set: one client can exhaust max_connections"
    )


def _as(url: Any) -> str:
    """What the probe proved, and no more: this role, this database (other rules may differ)."""
    return f" for role {url.user or '(default)'} on database {url.dbname or '(default)'}"
