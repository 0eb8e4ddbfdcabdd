"""Recall and precision of the migration lint on the corpus of tests/ops/migrate/lint/corpus.py, each case a
pending revision against the populated goal-mandala database, through the real `migrate plan --json` (live
table sizes) and `mandala-db lint FILE` (no database), beside squawk on the same SQL when SQUAWK names its
binary (`npm install --prefix /tmp/squawk squawk-cli`; SQUAWK=/tmp/squawk/node_modules/.bin/squawk).

    .venv/bin/python bench/lint_corpus.py

squawk is counted twice: with every finding, and without the rules that fire on nearly every statement
(missing IF NOT EXISTS, missing lock_timeout/statement_timeout, which mandala-db's runner sets itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "ops" / "migrate" / "lint")]

from common import Databases, admin_url  # noqa: E402
from corpus import DANGEROUS, SAFE, SETUP, Migration  # noqa: E402

from mandala_db.ops.migrate.loader import History  # noqa: E402

ALWAYS_ON = {
    "prefer-robust-stmts",
    "require-lock-timeout",
    "require-statement-timeout",
    "require-timeout-settings",
}
REVISION = "20991231000000_corpus_case"


def cli(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MANDALA_ENV")}
    env.update(DATABASE_URL=url, PYTHONPATH=str(project / "src"), MANDALA_CACHE_DIR=str(project / ".cache"))
    return subprocess.run(
        [sys.executable, "-m", "mandala_db", *args],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_case(project: Path, case: Migration) -> Path:
    head = History.load().head
    path = project / "src" / "mandala_db" / "migrations" / "versions" / f"{REVISION}.py"
    path.write_text(
        f'"""corpus case {case.name}"""\n\nfrom alembic import op\n\nrevision = "{REVISION}"\n'
        f'down_revision = "{head}"\n\nUPGRADE = {case.sql!r}\n\n\ndef upgrade() -> None:\n'
        "    for statement in UPGRADE:\n        op.execute(statement)\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    return path


def ours(project: Path, url: str, case: Migration) -> tuple[set[str], set[str]]:
    """(rules of `migrate plan --json`, rules of `mandala-db lint`) that fired, unwaived."""
    path = write_case(project, case)
    try:
        plan = cli(project, url, "--json", "migrate", "plan")
        doc = json.loads(plan.stdout)
        planned = {
            f["rule"] for p in doc["plan"] if p["revision"] == REVISION for f in p["lint"] if not f["waived"]
        }
        lint = cli(project, url, "lint", "--format", "json", str(path))
        linted = {f["rule"] for f in json.loads(lint.stdout)["findings"] if not f["waived"]}
    finally:
        path.unlink()
    return planned, linted


def squawk(binary: str, case: Migration, workdir: Path) -> set[str]:
    sql = workdir / f"{case.name}.sql"
    sql.write_text(";\n".join(case.sql) + ";\n")
    out = subprocess.run([binary, "--reporter", "json", str(sql)], capture_output=True, text=True, timeout=60)
    return {d["rule_name"] for d in json.loads(out.stdout or "[]")}


def score(name: str, fired: dict[str, set[str]]) -> str:
    caught = [c.name for c in DANGEROUS if fired[c.name]]
    false = [c.name for c in SAFE if fired[c.name]]
    recall = len(caught) / len(DANGEROUS)
    precision = len(caught) / max(1, len(caught) + len(false))
    missed = sorted(set(c.name for c in DANGEROUS) - set(caught))
    return (
        f"{name:34} caught {len(caught):3}/{len(DANGEROUS)}  recall {recall:6.1%}  false alarms "
        f"{len(false):3}/{len(SAFE)}  precision {precision:6.1%}"
        + (f"\n{'':34} missed: {', '.join(missed)}" if missed else "")
        + (f"\n{'':34} false: {', '.join(sorted(false))}" if false else "")
    )


def main() -> None:
    dbs = Databases(admin_url())
    url = dbs.new()
    raw = url.render(mask=False)
    work = Path(tempfile.mkdtemp(prefix="mandala-db-lint-corpus-"))
    try:
        project = work / "project"
        shutil.copytree(ROOT / "src" / "mandala_db", project / "src" / "mandala_db",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        for args in (("migrate", "deploy"), ("seed", "demo")):
            done = cli(project, raw, *args)
            assert done.returncode == 0, done.stderr
        import psycopg
        from common import params

        with psycopg.connect(**params(url), autocommit=True) as conn:  # type: ignore[arg-type]
            for statement in SETUP:
                conn.execute(statement)
            conn.execute("ANALYZE")
        plan: dict[str, set[str]] = {}
        lint: dict[str, set[str]] = {}
        for case in DANGEROUS + SAFE:
            plan[case.name], lint[case.name] = ours(project, raw, case)
            if case.rule is not None and case.rule not in plan[case.name]:
                print(
                    f"  plan: {case.name} caught by {sorted(plan[case.name]) or 'nothing'}, not {case.rule}"
                )
        print(
            f"corpus: {len(DANGEROUS)} dangerous, {len(SAFE)} safe migrations against the populated database"
        )
        print(score("mandala-db migrate plan --json", plan))
        print(score("mandala-db lint FILE (no database)", lint))
        binary = os.environ.get("SQUAWK") or shutil.which("squawk")
        if binary:
            every = {c.name: squawk(binary, c, work) for c in DANGEROUS + SAFE}
            print(score("squawk (every rule)", every))
            print(score("squawk (without always-on rules)", {k: v - ALWAYS_ON for k, v in every.items()}))
        else:
            print("squawk: not found (set SQUAWK to its binary to compare)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        dbs.drop_all()


if __name__ == "__main__":
    main()
