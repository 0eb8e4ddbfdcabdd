"""docs/ja/operations-guide.md, the Japanese guide: it names every command of the original guide, every
command in it parses, and the read-only ones run as written against a real database."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEST_CACHE, TEST_SUPPRESSIONS, run_cli
from mandala_db.core.url import DatabaseURL

GUIDE = ROOT / "docs" / "ja" / "operations-guide.md"
ORIGINAL = ROOT.parent / "shared" / "seed" / "000_ffe205c06cd97c92.txt"
SCRIPT_GROUP = {
    "migrate-dev.sh": ["migrate", "dev"],
    "migrate-prod.sh": ["migrate", "prod"],
    "migrate-status.sh": ["migrate", "status"],
    "migrate-rollback.sh": ["migrate", "rollback"],
    "backup-database.sh": ["backup"],
    "restore-database.sh": ["restore"],
    "setup-db-security.sh": ["security"],
}
# What the original guide's other tools became here.
EQUIVALENTS = {
    "pnpm run db:validate": "mandala-db migrate validate",
    "pnpm prisma migrate resolve": "mandala-db --yes migrate resolve",
    "aws logs tail": "mandala-db logs tail --follow",
    "gh workflow run database-migration.yml": "gh workflow run database-migration.yml",
    "docker-compose logs": "docker compose logs",
}


def commands(text: str) -> list[str]:
    """The command lines of the guide's code blocks."""
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    lines = [ln.strip() for block in blocks for ln in block.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith(("#", "{"))]


def script_words(line: str) -> tuple[str, str] | None:
    m = re.search(r"\./scripts/([\w-]+\.sh)(?:\s+(\S+))?", line)
    return (m.group(1), (m.group(2) or "").strip('"')) if m else None


def test_every_command_of_the_original_guide_is_named() -> None:
    if not ORIGINAL.exists():
        pytest.skip("the original guide lives beside the project, in ../shared/seed")
    guide = GUIDE.read_text()
    ours = {script_words(c) for c in commands(guide)} - {None}
    for line in commands(ORIGINAL.read_text()):
        words = script_words(line)
        if words is None:
            continue
        script, first = words
        wanted = (
            first
            if first and not first.startswith(("-", "backups/", "s3://", "20")) and first.isascii()
            else None
        )
        assert any(s == script and (wanted is None or w == wanted) for s, w in ours), line
    for theirs, here in EQUIVALENTS.items():
        assert theirs.split()[0] in ORIGINAL.read_text() and here in guide, theirs


def tool_words(line: str) -> list[str] | None:
    """The command path a line runs (`migrate rollback`), or None when it is not a mandala-db command."""
    words = shlex.split(line.split("#")[0])
    words = [w for w in words if "=" not in w or w.startswith("-")]  # NODE_ENV=staging ./scripts/...
    if not words:
        return None
    if words[0].startswith("./scripts/"):
        return SCRIPT_GROUP[Path(words[0]).name] + words[1:]
    if words[0] == "mandala-db":
        return words[1:]
    return None


def test_every_command_in_the_guide_parses() -> None:
    for line in commands(GUIDE.read_text()):
        words = tool_words(line)
        if words is None:
            continue
        path = [w for w in words if not w.startswith("-")]
        # Global options that take a value: drop them and their value.
        for option in ("--metrics", "--alert-webhook", "--alert-after", "--alert-sns", "--log-format"):
            if option in words:
                i = words.index(option)
                path = [w for w in path if w != words[i + 1]]
        group = (
            path[:2]
            if path and path[0] in ("migrate", "backup", "restore", "security", "logs", "data")
            else path[:1]
        )
        result = run_cli(*group, "--help")
        assert result.code == 0, (line, result.output)


READ_ONLY = (
    "./scripts/migrate-status.sh",
    "./scripts/migrate-rollback.sh list",
    "./scripts/backup-database.sh stats",
    "./scripts/restore-database.sh list",
    "./scripts/setup-db-security.sh check",
    "./scripts/setup-db-security.sh recommend",
    "./scripts/setup-db-security.sh audit",
    "mandala-db migrate validate",
    "mandala-db migrate plan",
    "mandala-db data check",
    "mandala-db server status",
    "mandala-db backup schedule",
    "mandala-db drill",
)


def test_the_read_only_commands_run_as_written(db_url: DatabaseURL, tmp_path: Path) -> None:
    ok_ = run_cli("migrate", "deploy", url=db_url)
    assert ok_.code == 0, ok_.output
    # The drill lines need a backup to prove (the guide takes one earlier, in its backup section).
    taken = run_cli("backup", "full", "--dir", str(tmp_path), url=db_url)
    assert taken.code == 0, taken.output
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATABASE_URL": db_url.render(mask=False),
        "MANDALA_DB": f"{sys.executable} -m mandala_db",
        "MANDALA_CACHE_DIR": TEST_CACHE,
        "MANDALA_SECURITY_SUPPRESSIONS": str(TEST_SUPPRESSIONS),
        "BACKUP_DIR": str(tmp_path),
    }
    ran = 0
    for line in commands(GUIDE.read_text()):
        if not line.startswith(READ_ONLY) or "..." in line:
            continue
        words = shlex.split(line)
        argv = (
            [sys.executable, "-m", "mandala_db", *words[1:]] if words[0] == "mandala-db" else ["bash", *words]
        )
        proc = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        assert proc.returncode == 0, (line, proc.stdout[-1500:], proc.stderr[-1500:])
        ran += 1
    assert ran >= 17
