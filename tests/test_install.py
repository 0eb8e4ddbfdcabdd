"""What `make demo`, `make test` and CI install is exactly what the lock files say, and the lock files
agree with pyproject.toml's ranges: a new release of a dependency cannot slip into an install unnoticed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    return {canonicalize_name(n): v for n, v in PIN.findall((ROOT / lock).read_text())}


def test_every_pin_carries_hashes() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
        for block in blocks:
            if PIN.match(block):
                assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]} has no hash"


def test_the_tool_and_test_locks_agree_where_they_overlap() -> None:
    tool, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert tool, "requirements.lock pins nothing"
    assert {n: dev.get(n) for n in tool} == tool


def test_the_running_environment_is_the_dev_lock() -> None:
    """The suite runs in what `make test` installed: every locked version, nothing newer or older."""
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {
        n: (v, installed.get(n)) for n, v in pins("requirements-dev.lock").items() if installed.get(n) != v
    }
    assert not wrong, f"installed versions differ from requirements-dev.lock (locked, installed): {wrong}"


def test_the_locks_satisfy_the_ranges_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = pins("requirements-dev.lock")
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        req = Requirement(spec)
        version = dev.get(canonicalize_name(req.name))
        assert version is not None, f"{req.name} is not locked: run `make lock`"
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} is outside {spec}"
