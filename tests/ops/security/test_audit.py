"""`security audit`: who may do what, saved as the desired state and compared with the live database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from conftest import connect_to, run_cli
from mandala_db.core.config import DatabaseURL
from support import ok


def test_audit_against_a_saved_snapshot_names_a_public_grant_and_a_new_role(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    saved = tmp_path / "security-audit.json"
    ok(run_cli("security", "audit", "--save", str(saved), url=db_url))
    same = run_cli("--json", "security", "audit", "--against", str(saved), url=db_url)
    # Roles belong to the whole server: other tests' throw-away roles (mdb_...) may come and go meanwhile.
    unchanged = {k: v for k, v in json.loads(same.stdout)["against"]["added"].items() if k != "roles"}
    others = json.loads(same.stdout)["against"]["added"].get("roles", [])
    assert unchanged == {} and all(r.startswith("mdb_") for r in others), same.output
    assert same.code in (0, 5) and (same.code == 0 or others), same.output

    intruder = f"mdb_intruder_{uuid.uuid4().hex[:8]}"
    with connect_to(db_url) as admin:
        admin.execute("GRANT SELECT ON TABLE users TO PUBLIC")
        admin.execute(f"CREATE ROLE {intruder} LOGIN CREATEDB")
        admin.execute("CREATE TABLE stray (id int)")
    try:
        result = run_cli("--json", "security", "audit", "--against", str(saved), url=db_url)
        assert result.code == 5, result.output
        added = json.loads(result.stdout)["against"]["added"]
        assert "table public.users: PUBLIC SELECT" in added["table grants"]
        assert any(r.startswith(f"{intruder}:") and "CREATEDB" in r for r in added["roles"])
        assert any("stray" in r for r in added["objects no revision created"])
        human = run_cli("security", "audit", "--against", str(saved), url=db_url)
        assert human.code == 5 and "added: roles:" in human.stdout and "privilege change(s)" in human.stderr
    finally:
        with connect_to(db_url) as admin:
            admin.execute(f"DROP ROLE {intruder}")


def test_a_file_that_is_not_a_saved_audit_is_refused_before_any_work(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    bad = tmp_path / "audit.json"
    bad.write_text('{"format": 99}')
    result = run_cli("security", "audit", "--against", str(bad), url=db_url)
    assert result.code == 2 and "is not a saved security audit" in result.stderr
    missing = run_cli("security", "audit", "--against", str(tmp_path / "nope.json"), url=db_url)
    assert missing.code == 2 and "does not exist" in missing.stderr
