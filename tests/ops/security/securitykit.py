"""What the security check tests share: a login role for the application, a cluster of their own for
plants that change the whole server, `security check --json` run as a role, and its failing findings."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import psycopg

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from servers import ScratchServer


def check(url: DatabaseURL, user: str | None = None) -> list[dict[str, Any]]:
    target = dataclasses.replace(url, user=user, password=None) if user else url
    result = run_cli("--json", "security", "check", "--fail-on", "high", url=target)
    assert result.code in (0, 5), result.output
    return list(json.loads(result.stdout)["findings"])


def failing(found: list[dict[str, Any]], ident: str, obj: str) -> list[dict[str, Any]]:
    return [f for f in found if f["id"] == ident and f["object"] == obj and f["status"] == "fail"]


def server_major(url: DatabaseURL) -> int:
    with connect_to(url) as c:
        return int(c.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0])  # type: ignore[index]


def plant_hba(server: ScratchServer, lines: list[str], reload: bool = True) -> None:
    hba = server.pgdata / "pg_hba.conf"
    hba.write_text("local all all trust\n" + "".join(f"{line}\n" for line in lines))
    if reload:
        with connect_to(server.url) as c:
            c.execute("SELECT pg_reload_conf()")


def plant_sql(server: ScratchServer, *sql: str) -> None:
    with psycopg.connect(**dict(server.url.libpq_params()), autocommit=True) as c:
        for statement in sql:
            c.execute(statement)


def run_check(ident: str, facts: Any) -> list[Any]:
    """One registered check, by id, on the facts given (the report's order and the other checks aside)."""
    from mandala_db.ops.security.checks import CHECKS

    unit = next(c for c in CHECKS if c.id == ident)
    return unit.run(unit, facts)


def offline_facts(url: str = "postgresql://app@db.example.com/app", **fields: Any) -> Any:
    """Facts for the checks that read only the URL and the settings: no connection behind them."""
    from mandala_db.core.database import Database
    from mandala_db.ops.security.facts import Facts

    return Facts(Database(DatabaseURL.parse(url)), conn=None, **fields)  # type: ignore[arg-type]
