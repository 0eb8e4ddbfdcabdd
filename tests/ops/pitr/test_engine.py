"""ops/pitr/engine: the stanza's pgBackRest configuration (a folder or an S3 repository, never a secret in
it), a stanza name pgBackRest accepts, and pgBackRest's own error line when it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.ops.pitr import engine
from mandala_db.ops.pitr.engine import Repo, Stanza


def stanza(repo: str, endpoint: str | None = None) -> Stanza:
    return Stanza("goal-mandala", Path("/srv/state/pgbackrest.conf"), Path("/var/lib/postgresql/15/main"),
                  "/var/run/postgresql", 5432, "postgres", Repo(repo), endpoint)  # fmt: skip


def test_a_folder_repository_and_the_cluster_are_named_and_nothing_else() -> None:
    text = stanza("/var/lib/pgbackrest").render()
    assert "repo1-path=/var/lib/pgbackrest" in text and "[goal-mandala]" in text
    assert "pg1-path=/var/lib/postgresql/15/main" in text and "pg1-port=5432" in text
    assert "log-path=/srv/state/log" in text and "start-fast=y" in text


def test_an_s3_repository_takes_its_keys_from_the_environment() -> None:
    text = stanza("s3://backups/goal-mandala/pitr", "https://127.0.0.1:9000").render()
    assert (
        "repo1-type=s3" in text
        and "repo1-s3-bucket=backups" in text
        and "repo1-path=/goal-mandala/pitr" in text
    )
    assert "repo1-s3-endpoint=127.0.0.1" in text and "repo1-storage-port=9000" in text
    assert "key=" not in text.replace("repo1-s3-key-type=shared", "")  # no key or secret in the file
    with pytest.raises(BadInput, match="pgBackRest speaks only HTTPS"):
        stanza("s3://backups/x", "http://127.0.0.1:9000").render()
    with pytest.raises(BadInput, match="no bucket"):
        stanza("s3:///x").render()


@pytest.mark.parametrize("name", ["", "-x", "a b", "a/b", "a;b"])
def test_a_stanza_name_pgbackrest_would_refuse_is_bad_input(name: str) -> None:
    with pytest.raises(BadInput, match="letters, digits"):
        Stanza(name, Path("/c"), Path("/d"), "/s", 5432, "postgres", Repo("/r"))


def test_the_error_line_is_pgbackrests_own() -> None:
    out = "WARN: something\nERROR: [056]: unable to find primary cluster - cannot proceed\n       HINT: are all ..."
    assert engine.error_line(out) == "ERROR: [056]: unable to find primary cluster - cannot proceed"
    assert engine.error_line("") == "no output"


def test_a_postgresql_pgbackrest_does_not_know_is_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "version", lambda: "2.45")
    out = "WARN: unable to check pg1: [VersionNotSupportedError] unexpected control version = 1300\nERROR: [056]: x"
    assert engine.error_line(out) == (
        "pgBackRest 2.45 does not support this PostgreSQL version: install a newer pgBackRest"
    )
