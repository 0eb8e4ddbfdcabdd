"""The tests mirror the code: a module with logic of its own (a function or a class) is tested in
tests/<path>/test_<module>.py, and a package's __init__ beside the package (tests/ops/backup/test_remote.py
for ops/backup/remote/__init__.py). A module with logic and no such file is named below with the reason,
and a reason that no longer holds fails too."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src" / "mandala_db"
TESTS = ROOT / "tests"

# Not unit-tested on their own, and why.
EXEMPT = {
    "migrations/env.py": "Alembic's environment, run by Alembic for every revision (migrations/test_history.py)",
    "ops/seed/demo.py": "a data set: rows, loaded and checked by tests/ops/test_seed.py",
    "ops/seed/development.py": "a data set",
    "ops/seed/edge.py": "a data set",
    "ops/seed/performance.py": "a data set",
    "ops/seed/mandala.py": "the shapes the data sets share, built by each of them",
}


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
    unexplained = [m for m in missing if m not in EXEMPT]
    assert unexplained == [], f"write tests/{{path}}/test_{{module}}.py for: {unexplained}"


def test_every_exemption_is_still_a_module_with_logic_and_has_no_file() -> None:
    """An exemption outlives its reason when the module goes or gets its file: then it must go too."""
    stale = [m for m in EXEMPT if m not in modules_with_logic() or mirror(SRC / m).exists()]
    assert stale == [], f"take these off EXEMPT: {stale}"


def test_every_other_test_file_is_a_behaviour_file_the_readme_lists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :].split("\n## ", 1)[0]
    mirrored = {mirror(SRC / m) for m in modules_with_logic()}
    unlisted = [
        str(p.relative_to(TESTS))
        for p in sorted(TESTS.rglob("test_*.py"))
        if p not in mirrored and f"`{p.relative_to(TESTS)}`" not in layout
    ]
    assert unlisted == [], f"name these in the README's Layout section, or give them a module: {unlisted}"
