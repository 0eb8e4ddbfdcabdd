"""cli/pitr: `pitr setup` and `pitr status` on a real archiving cluster, in words and in JSON; a stanza with
no configuration, or a name pgBackRest would refuse, is bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from servers import ArchivingServer


def test_setup_then_status(archiving_server: ArchivingServer, tmp_path: Path) -> None:
    url, config = archiving_server.url, str(archiving_server.base / "conf" / "pgbackrest.conf")
    repo = str(archiving_server.base / "repo")
    missing = run_cli("pitr", "status", "--stanza", "demo", "--config", config, url=url)
    assert missing.code == 2 and "run `mandala-db pitr setup --stanza demo` first" in missing.stderr
    done = run_cli("pitr", "setup", "--stanza", "demo", "--repo", repo, "--config", config, url=url)
    assert done.code == 0, done.output
    assert f"Stanza demo ready: repository {repo}" in done.stdout and "archive_command set" in done.stdout
    st = run_cli("pitr", "status", "--stanza", "demo", "--config", config, url=url)
    assert st.code == 0 and "no backups yet" in st.stdout and "a restore could reach 20" in st.stdout
    data = json.loads(
        run_cli("--json", "pitr", "status", "--stanza", "demo", "--config", config, url=url).stdout
    )
    assert data["ok"] and data["backups"] == [] and data["recovery_point"] and data["archive_failures"] == 0
    bad = run_cli("pitr", "setup", "--stanza", "no good", "--repo", repo, "--config", config, url=url)
    assert bad.code == 2 and "letters, digits" in bad.stderr
