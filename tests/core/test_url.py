"""URL parsing and redaction: every URL form the original guide used, and no way for a password to show."""

from __future__ import annotations

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.core.url import DatabaseURL, redact


def test_postgres_and_postgresql_schemes_and_percent_encoded_passwords() -> None:
    a = DatabaseURL.parse("postgres://app:p%40ss%2Fw%3Ard@db.internal:6543/goals")
    b = DatabaseURL.parse("postgresql://app:p%40ss%2Fw%3Ard@db.internal:6543/goals")
    assert a == b
    assert a.password == "p@ss/w:rd" and a.user == "app" and a.dbname == "goals"
    assert a.hosts == (("db.internal", 6543),)


def test_rendering_masks_the_password_everywhere() -> None:
    url = DatabaseURL.parse("postgresql://app:hunter2@db:5432/goals?sslmode=require")
    assert str(url) == "postgresql://app:****@db:5432/goals?sslmode=require"
    assert "hunter2" not in repr(url)
    assert "hunter2" not in f"{url}"


def test_libpq_parameters_pass_through_and_pool_parameters_are_applied() -> None:
    url = DatabaseURL.parse(
        "postgresql://app@db/goals?sslmode=require&connect_timeout=3&connection_limit=5&pool_timeout=20"
        "&statement_timeout=30s&application_name=api&target_session_attrs=read-write"
    )
    params = url.libpq_params()
    assert params["sslmode"] == "require" and params["connect_timeout"] == "3"
    assert params["target_session_attrs"] == "read-write" and params["application_name"] == "api"
    # libpq rejects these: they are the tool's to apply.
    assert "connection_limit" not in params and "pool_timeout" not in params
    assert "statement_timeout" not in params
    assert params["options"] == "-c statement_timeout=30000"
    assert url.connection_limit == 5 and url.pool_timeout == 20.0


def test_statement_timeout_joins_existing_options_and_schema_sets_search_path() -> None:
    url = DatabaseURL.parse(
        "postgresql://app@db/goals?options=-c%20work_mem%3D64MB&statement_timeout=500&schema=tenant_a"
    )
    assert (
        url.libpq_params()["options"] == "-c work_mem=64MB -c statement_timeout=500 -c search_path=tenant_a"
    )
    assert url.schema == "tenant_a"


def test_socket_hosts_and_ipv6_and_multiple_hosts() -> None:
    sock = DatabaseURL.parse("postgresql://postgres:@/postgres?host=/tmp/sock")
    assert sock.libpq_params()["host"] == "/tmp/sock" and sock.hosts == ()
    v6 = DatabaseURL.parse("postgresql://u@[::1]:5433/d")
    assert v6.hosts == (("::1", 5433),)
    multi = DatabaseURL.parse("postgresql://u@a:5432,b:5433/d?target_session_attrs=primary")
    assert multi.libpq_params()["host"] == "a,b" and multi.libpq_params()["port"] == "5432,5433"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("db.internal:5432/goals", "has no scheme"),
        ("mysql://u:p@h/d", "unsupported scheme 'mysql'"),
        ("postgresql://u:p@h:port/d", "a port is not a number"),
        ("postgresql://u:p@h:99999/d", "out of range"),
        ("postgresql://u:p@h/d?schema=x;drop", "not a plain identifier"),
        ("postgresql://u:p@h/d?sslmod=require", "unknown parameter 'sslmod'"),
        ("postgresql://u:p@h/d?connection_limit=zero", "connection_limit='zero'"),
        ("postgresql://u:p@h/d?statement_timeout=soon", "is not a duration"),
        ("postgresql://[bad", "an IPv6 host is written"),
        ("postgresql://bad host/d", "the host is not a host name"),
        ("postgresql://u:S3nt/ab?cd@h/d", "holds a raw reserved character"),
        ("postgresql://u:S3nt?abcd@h/d", "holds a raw reserved character"),
        (
            "postgresql://u:S3nt@abcd@h/d",
            None,
        ),  # a raw @ in the password: the last @ ends it, as libpq reads it
        ("postgresql://u:S3ntabcd@h:S3nt/d", "a port is not a number"),
    ],
)
def test_malformed_urls_say_what_is_wrong_without_echoing_the_password(raw: str, message: str | None) -> None:
    if message is None:
        assert DatabaseURL.parse(raw).password == "S3nt@abcd"
        return
    with pytest.raises(BadInput, match=message) as info:
        DatabaseURL.parse(raw)
    assert ":p@" not in info.value.line()
    for fragment in (
        "S3nt",
        "abcd",
        "ab?c",
        "3nt/",
    ):  # no part of any password, nothing a DNS lookup could see
        assert fragment not in info.value.line()


def test_redact_removes_secrets_and_url_passwords() -> None:
    text = "failed: postgresql://app:s3cr%21t@db/x and s3cr!t again"
    assert redact(text, "s3cr!t") == "failed: postgresql://app:****@db/x and **** again"
