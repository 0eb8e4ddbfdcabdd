"""cli/lint_views: `mandala-db lint`'s formats. JSON, GitHub workflow commands and SARIF 2.1.0 (validated against
Microsoft's published schema, and a broken log is refused by it, so the validation is not vacuous); a
waived finding is a notice in GitHub and an in-source suppression in SARIF."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from ops.migrate.lint.lintkit import RISKY_SQL

# The schema ships in Microsoft's SARIF multitool package on the npm registry; pinned by its hash.


SARIF_PACKAGE = "@microsoft/sarif-multitool-linux@5.7.0"


SARIF_SCHEMA_SHA256 = "1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c"


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mandala-db-tests"
    path = cache / "sarif-2.1.0.json"
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != SARIF_SCHEMA_SHA256:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the SARIF schema cannot be fetched")
        work = tmp_path_factory.mktemp("sarif")
        subprocess.run(
            [npm, "pack", SARIF_PACKAGE, "-q"], cwd=work, check=True, capture_output=True, timeout=300
        )
        (tarball,) = work.glob("*.tgz")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/sarif-2.1.0.json")
            assert member is not None
            data = member.read()
        assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".sarif-2.1.0.json.{os.getpid()}"  # two workers may fetch at once: rename, whole
        partial.write_bytes(data)
        os.replace(partial, path)
    return dict(json.loads(path.read_text()))


def test_json_github_and_sarif_formats(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    import jsonschema

    sql = tmp_path / "change.sql"
    sql.write_text(RISKY_SQL)
    doc = json.loads(run_cli("lint", "--format", "json", str(sql), cwd=tmp_path).stdout)
    assert not doc["ok"] and [(f["rule"], f["line"], f["waived"]) for f in doc["findings"]] == [
        ("non-concurrent-index", 2, None),
        ("truncate", 4, "the staging copy is rebuilt every night"),
    ]
    github = run_cli("lint", "--format", "github", str(sql), cwd=tmp_path).stdout.splitlines()
    assert github[0].startswith("::error file=change.sql,line=2,title=mandala-db non-concurrent-index::")
    assert github[1].startswith("::notice file=change.sql,line=4,title=mandala-db truncate::")
    result = run_cli("lint", "--format", "sarif", str(sql), cwd=tmp_path)
    assert result.code == 5
    log = json.loads(result.stdout)
    jsonschema.Draft202012Validator(sarif_schema).validate(log)
    run = log["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {
        "non-concurrent-index",
        "truncate",
        "drop-index",
    }
    found = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]
    ]
    assert found == [("non-concurrent-index", 2), ("truncate", 4)]
    assert run["results"][1]["suppressions"] == [
        {"kind": "inSource", "justification": "the staging copy is rebuilt every night"}
    ]
    # A SARIF log that is wrong in shape is refused by the schema: the validation is not vacuous.
    broken = json.loads(result.stdout)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(sarif_schema).validate(broken)
