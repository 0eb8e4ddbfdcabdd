"""cli/context: what every command needs from its invocation. Without a URL the embedded server serves
development and test, never a protected environment; another URL named on the command line has its
password registered as a secret before it is parsed; sizes read as a person would say them."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SENTINEL_PASSWORD
from mandala_db.cli.context import Invocation, database, database_at, human_size, ship_backup
from mandala_db.core.errors import BadInput
from mandala_db.core.events import bus
from mandala_db.core.settings import Environment, Settings
from mandala_db.core.url import DatabaseURL


def settings(environment: Environment = Environment.DEVELOPMENT, **kw: object) -> Settings:
    fields: dict[str, object] = {"database_url": None, **kw}
    return Settings(environment=environment, state_dir=Path("/nonexistent"), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("environment", [e for e in Environment if e.protected])
def test_a_protected_environment_without_a_url_is_refused_before_any_server_starts(
    environment: Environment,
) -> None:
    with pytest.raises(BadInput, match=f"no database URL in {environment.value}") as refused:
        database(settings(environment))
    assert "DATABASE_URL" in (refused.value.hint or "")


def test_a_given_url_is_used_with_the_commands_name() -> None:
    s = settings(database_url=DatabaseURL.parse("postgresql://app@db.example.com/app"), command="backup")
    db = database(s)
    assert db.url.hosts[0][0] == "db.example.com" and db.application_name == "mandala-db:backup"


def test_another_urls_password_is_a_secret_before_anything_can_echo_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bus, "secrets", set())
    db = database_at(settings(), f"postgresql://app:{SENTINEL_PASSWORD}@db.example.com/app")
    assert db.url.password == SENTINEL_PASSWORD
    assert bus.scrub(f"failed: {SENTINEL_PASSWORD}") == "failed: ****" or SENTINEL_PASSWORD not in bus.scrub(
        SENTINEL_PASSWORD
    )


def test_no_remote_configured_ships_nothing() -> None:
    assert ship_backup(settings()) is None


def test_no_sink_asked_for_starts_no_monitor() -> None:
    invocation = Invocation()
    invocation.start_monitor(settings(), "migrate deploy")
    assert invocation.monitor is None


@pytest.mark.parametrize(
    ("n", "said"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "2 kB"), (5 * 1024**2, "5 MB"), (3 * 1024**4, "3.0 TB")],
)
def test_sizes_read_as_a_person_says_them(n: int, said: str) -> None:
    assert human_size(n) == said
