"""The tests mirror the code: a module with logic of its own (a function or a class) is tested in
tests/<path>/test_<module>.py, and a package's __init__ beside the package (tests/ops/backup/test_remote.py
for ops/backup/remote/__init__.py). What has no such file is either not code to unit-test (named below with
the reason) or still waiting for its file, in a list that may only shrink."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src" / "mandala_db"
TESTS = ROOT / "tests"

# Not unit-tested on their own, and why.
EXEMPT = {
    "__main__.py": "one line: python -m mandala_db",
    "migrations/env.py": "Alembic's environment, run by Alembic for every revision (migrations/test_history.py)",
    "ops/seed/demo.py": "a data set: rows, loaded and checked by ops/seed/test_seed.py",
    "ops/seed/development.py": "a data set",
    "ops/seed/edge.py": "a data set",
    "ops/seed/performance.py": "a data set",
    "ops/seed/mandala.py": "the shapes the data sets share, built by each of them",
}

# Modules tested so far only through the behaviour files (README: Layout). Each one that gets its own
# file leaves this list; a name here that has a file fails the test, so the list only shrinks.
NOT_YET = set(
    """
    cli/backup.py cli/drill.py cli/github.py cli/lint.py cli/lint_views.py cli/plan_views.py
    cli/security.py cli/security_views.py cli/views.py
    """.split()  # noqa: SIM905 (a word a module: one to strike out when its file comes)
)


def has_logic(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in ast.walk(tree))


def mirror(module: Path) -> Path:
    relative = module.relative_to(SRC)
    if module.name == "__init__.py":
        if relative.parent == Path("."):
            return TESTS / "test_mandala_db.py"
        return TESTS / relative.parent.parent / f"test_{relative.parent.name}.py"
    return TESTS / relative.parent / f"test_{module.stem}.py"


@cache
def modules_with_logic() -> tuple[str, ...]:
    return tuple(
        sorted(
            str(p.relative_to(SRC))
            for p in SRC.rglob("*.py")
            if "migrations/versions" not in str(p) and has_logic(p)
        )
    )


def test_every_module_with_logic_has_its_test_file_or_a_reason() -> None:
    missing = [m for m in modules_with_logic() if not mirror(SRC / m).exists()]
    unexplained = [m for m in missing if m not in EXEMPT and m not in NOT_YET]
    assert unexplained == [], f"write tests/{{path}}/test_{{module}}.py for: {unexplained}"


def test_the_waiting_list_only_shrinks() -> None:
    done = sorted(m for m in NOT_YET if mirror(SRC / m).exists() or m not in modules_with_logic())
    assert done == [], f"these have their test file now (or no logic): take them off NOT_YET: {done}"
    assert not set(EXEMPT) & NOT_YET
