"""ops/migrate/resolve.py: `migrate resolve` mends the record after a human applied or undid a revision by
hand, and checks the claim against the schema first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from conftest import in_project
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, add_revision, edit_models, ledger, ok


def test_resolve_mends_the_record_after_hand_work(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    ok(in_project(project, db_url, "migrate", "deploy"))
    edit_models(
        project,
        "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n",
        "    completed_at: Mapped[datetime | None] = mapped_column(TZ)\n    note: Mapped[str | None] = mapped_column(Text)\n",
    )
    rev = add_revision(
        project,
        "20261201000000_task_note",
        HEAD,
        ["ALTER TABLE tasks ADD COLUMN note text"],
        ["ALTER TABLE tasks DROP COLUMN note"],
    )
    never = in_project(project, db_url, "--yes", "migrate", "resolve", "--rolled-back", rev)
    assert never.code == 2 and "never applied or attempted" in never.stderr
    # A claim the schema contradicts is refused, naming the objects, and nothing is recorded.
    false_claim = in_project(project, db_url, "--yes", "migrate", "resolve", "--applied", rev)
    assert false_claim.code == 5 and "tasks.note" in false_claim.stderr and "--force" in false_claim.stderr
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    conn.execute("ALTER TABLE tasks ADD COLUMN note text")  # a human applied it by hand
    asked = in_project(project, db_url, "migrate", "resolve", "--applied", rev)
    assert asked.code == 3 and "--yes" in asked.stderr  # it asks, like every command that rewrites the record
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    ok(in_project(project, db_url, "--yes", "migrate", "resolve", "--applied", rev))
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (rev,)
    assert ledger(conn)[-1] == (rev, "upgrade", "resolved")
    ok(in_project(project, db_url, "migrate", "validate"))
    # Claiming the applied head rolled back while its column is still there: refused.
    before = catalog.take(conn).fingerprint
    contradicted = in_project(project, db_url, "--yes", "migrate", "resolve", "--rolled-back", rev)
    assert contradicted.code == 5 and "tasks.note" in contradicted.stderr
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (rev,)
    assert catalog.take(conn).fingerprint == before
    conn.execute("ALTER TABLE tasks DROP COLUMN note")  # and undid it by hand
    ok(in_project(project, db_url, "--yes", "migrate", "resolve", "--rolled-back", rev))
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    status = json.loads(ok(in_project(project, db_url, "--json", "migrate", "status")).stdout)["status"]
    assert [p["revision"] for p in status["pending"]] == [rev]
    assert status["drift"] == "none"  # the record now matches what the human left
    ok(in_project(project, db_url, "migrate", "deploy"))
    # --force records a contradicted claim anyway (the operator knows better), and says what differs.
    forced = ok(in_project(project, db_url, "--yes", "migrate", "resolve", "--rolled-back", rev, "--force"))
    assert "schema contradicts" in forced.stderr
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    assert in_project(project, db_url, "migrate", "resolve").code == 2
