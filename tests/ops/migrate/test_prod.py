"""ops/migrate/prod.py: the guarded production run. A dry run changes nothing; the real one backs up, deploys
and checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, ledger, ok


def test_prod_dry_run_changes_nothing_and_prod_backs_up_deploys_and_checks(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], cli: Any, tmp_path: Path
) -> None:
    ok(cli("migrate", "deploy"))
    ok(cli("seed", "development"))
    ok(
        cli(
            "--yes",
            "migrate",
            "rollback",
            "to",
            "add_reminder_tables",
            env={"BACKUP_DIR": str(tmp_path / "rb")},
        )
    )
    assert list((tmp_path / "rb" / "full").glob("pre_rollback_backup_*.dump"))  # destructive: backed up first
    before = (catalog.take(conn).fingerprint, ledger(conn))
    dry = ok(cli("--env", "production", "migrate", "prod", "--dry-run"))
    assert "Dry run: nothing was changed" in dry.stdout and "20250409000000_split_reflections" in dry.stdout
    assert (catalog.take(conn).fingerprint, ledger(conn)) == before
    refused = cli("--env", "production", "migrate", "prod")
    assert refused.code == 3 and "non-interactive" in refused.stderr
    assert catalog.take(conn).fingerprint == before[0]
    result = ok(
        cli("--env", "production", "--json", "--yes", "migrate", "prod", "--backup-dir", str(tmp_path))
    )
    doc = json.loads(result.stdout)
    assert (
        doc["current"] == HEAD
        and doc["postchecks"]["head_reached"]
        and doc["postchecks"]["fingerprint_expected"]
    )
    backup = Path(doc["backup"]["path"])
    assert backup.parent == tmp_path / "full" and backup.name.startswith("pre_migration_backup_")
    manifest = json.loads(Path(doc["backup"]["manifest"]).read_text())
    assert manifest["head_revision"] == "20250305000000_add_reminder_tables"
    assert manifest["files"][backup.name]["sha256"] == doc["backup"]["sha256"]
    assert manifest["row_counts"]["users"] == 3
    again = ok(cli("--env", "production", "--yes", "migrate", "prod"))
    assert "Nothing to deploy" in again.stdout
