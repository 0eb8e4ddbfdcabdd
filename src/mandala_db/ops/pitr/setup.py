"""`pitr setup`: a cluster made ready for physical backups and point-in-time recovery. Read first, from the
server itself: `wal_level`, `archive_mode`, `archive_command`, `archive_timeout`, its data directory and
socket. What a restart would take (`wal_level`, `archive_mode`) the tool does not do: it refuses in one
line, with the exact lines to add. What a reload takes (`archive_command`) it sets itself with ALTER SYSTEM,
unless another command already ships the WAL somewhere (refused: two archivers would each keep half the
history). Then the configuration is written, `stanza-create` and `check` run (check forces a WAL switch and
waits for it in the repository: archiving is proved, not assumed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core.database import Database
from mandala_db.core.errors import CheckFailed, Refused
from mandala_db.core.events import bus
from mandala_db.ops.pitr.engine import Repo, Stanza


@dataclass
class Setup:
    stanza: str
    config: str
    repo: str
    archive_command_set: bool = False  # set by this run (ALTER SYSTEM, then a reload)
    checks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"stanza": self.stanza, "config": self.config, "repo": self.repo,
                "archive_command_set": self.archive_command_set, "checks": self.checks}  # fmt: skip


def server_facts(db: Database) -> dict[str, str]:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT current_setting('wal_level'), current_setting('archive_mode'), current_setting('archive_command'), "
            "current_setting('archive_timeout'), current_setting('data_directory'), "
            "split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), "
            "current_setting('server_version_num'), current_user, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)::text"
        ).fetchone()
    assert row is not None
    keys = ("wal_level", "archive_mode", "archive_command", "archive_timeout", "data_directory", "socket", "port",
            "version_num", "user", "superuser")  # fmt: skip
    return dict(zip(keys, (str(v) for v in row), strict=True))


def stanza_for(db: Database, name: str, repo: str, config: Path, *, s3_endpoint: str | None = None,
               facts: dict[str, str] | None = None) -> Stanza:  # fmt: skip
    facts = facts or server_facts(db)
    pg_path = Path(facts["data_directory"])
    if not pg_path.is_dir():
        raise Refused(f"the server's data directory {pg_path} is not on this machine",
                      "run mandala-db where the cluster runs: pgBackRest reads its files")  # fmt: skip
    return Stanza(
        name, config, pg_path, facts["socket"], int(facts["port"]), facts["user"], Repo(repo), s3_endpoint
    )


def configured(db: Database, name: str, config: Path) -> Stanza:
    """The stanza as `pitr setup` configured it: its repository read back from the configuration."""
    options = dict(ln.split("=", 1) for ln in config.read_text(encoding="utf-8").splitlines() if "=" in ln)
    repo = options.get("repo1-path", "")
    if options.get("repo1-type") == "s3":
        repo = f"s3://{options.get('repo1-s3-bucket', '')}{repo}"
    return stanza_for(db, name, repo, config)


def setup(db: Database, name: str, repo: str, config: Path, *, s3_endpoint: str | None = None) -> Setup:
    facts = server_facts(db)
    stanza = stanza_for(db, name, repo, config, s3_endpoint=s3_endpoint, facts=facts)
    wanted = stanza.archive_command
    missing = []
    if facts["wal_level"] not in ("replica", "logical"):
        missing.append("wal_level = replica")
    if facts["archive_mode"] not in ("on", "always"):
        missing.append("archive_mode = on")
    if missing:
        raise CheckFailed(
            f"{db.url.dbname}: the server does not archive WAL ({', '.join(f'{k} is {facts[k]}' for k in ('wal_level', 'archive_mode'))}); "
            "add to postgresql.conf: "
            + "; ".join([*missing, f"archive_command = '{wanted}'"])
            + ", then restart it",
            "a restart is the server owner's decision: mandala-db does not restart it; run `pitr setup` again after",
        )
    current = facts["archive_command"]
    if current not in ("", "(disabled)") and current != wanted:
        raise Refused(f"archive_command already ships WAL elsewhere: {current}",
                      f"set archive_command = '{wanted}' yourself if pgBackRest is to take over, then run pitr setup again")  # fmt: skip
    stanza.write()
    if not stanza.readable_by_owner():
        config.unlink()  # of no use where it is
        raise Refused(f"the configuration {config} is out of reach of the cluster's user {stanza.owner()} "
                      "(a folder on the way is private), and its archive_command must read it",
                      "give --config in a folder that user can read, e.g. /etc/pgbackrest/pgbackrest.conf")  # fmt: skip
    result = Setup(
        name,
        str(config),
        repo,
        checks=[f"wal_level {facts['wal_level']}", f"archive_mode {facts['archive_mode']}"],
    )
    if current != wanted:
        if facts["superuser"] != "true":
            raise Refused(f"archive_command is not set, and {facts['user']} may not set it",
                          f"as a superuser: ALTER SYSTEM SET archive_command = '{wanted}'; SELECT pg_reload_conf();")  # fmt: skip
        with db.connect() as conn:
            conn.autocommit = True
            conn.execute(f"ALTER SYSTEM SET archive_command = '{wanted.replace(chr(39), chr(39) * 2)}'")
            conn.execute("SELECT pg_reload_conf()")
        result.archive_command_set = True
        bus.info("pitr_archive_command", f"archive_command set: {wanted}")
    stanza.run("stanza-create")
    stanza.run("check")  # a WAL switch, archived and found in the repository
    result.checks += ["stanza created", "WAL archived and found in the repository (pgbackrest check)"]
    bus.info("pitr_setup", f"stanza {name} ready: {repo}", stanza=name)
    return result


def default_config(state_dir: Path, name: str) -> Path:
    """Beside the tool's own state, one folder per stanza (its log, lock and spool folders too)."""
    return (state_dir / "pgbackrest" / name / "pgbackrest.conf").resolve()


__all__ = ["Setup", "configured", "default_config", "setup", "stanza_for"]
