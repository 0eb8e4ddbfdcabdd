"""ops/migrate/prisma_schema: the application's schema.prisma, generated from our models. Prisma's own parser
(@prisma/prisma-schema-wasm, run by Node.js) validates it, and the data model it reads names exactly our
tables, columns, types and enums, under the application's model and field names. The shipped copy is
current (validate warns when it is not),."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, connect_to, edit, in_project
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.migrations import SCRIPT_LOCATION
from mandala_db.ops.migrate.prisma_schema import render

PARSER = ROOT / "tests" / "prisma"
# Our column types as Prisma reads them: (Prisma type, native type) by format_type's text.
TYPES = {"uuid": ("String", "Uuid"), "text": ("String", None), "timestamp with time zone": ("DateTime", "Timestamptz"),
         "smallint": ("Int", "SmallInt"), "integer": ("Int", None), "boolean": ("Boolean", None), "jsonb": ("Json", None),
         "uuid[]": ("String", "Uuid")}  # fmt: skip


@pytest.fixture(scope="session")
def prisma_parser() -> Path:
    """Prisma's parser from the npm registry (tests/prisma/package-lock.json), installed once per machine."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are not installed: Prisma's parser cannot run (`make test` installs it)")
    with (PARSER / ".install.lock").open("w") as lock:  # one installer among the suite's workers
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PARSER / "node_modules" / "@prisma" / "prisma-schema-wasm").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PARSER, check=True, capture_output=True,
                           timeout=600)  # fmt: skip
    return PARSER / "dmmf.js"


def parse(parser: Path, text: str, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "schema.prisma"
    path.write_text(text)
    done = subprocess.run(
        ["node", str(parser), str(path)], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_prismas_parser_validates_it_and_reads_exactly_our_tables_columns_and_types(
    prisma_parser: Path, deployed: DatabaseURL, tmp_path: Path
) -> None:
    with connect_to(deployed) as conn:
        models = catalog.models_snapshot(conn)
    dmmf = parse(prisma_parser, render(models), tmp_path)
    assert dmmf["valid"], dmmf.get("error")
    assert {e["dbName"]: e["values"] for e in dmmf["enums"]} == models.enums
    assert sorted(m["dbName"] for m in dmmf["models"]) == sorted(models.tables)
    enums = {e["name"]: e["dbName"] for e in dmmf["enums"]}
    for model in dmmf["models"]:
        ours = models.tables[model["dbName"]].columns
        scalars = [f for f in model["fields"] if f["kind"] in ("scalar", "enum")]
        assert sorted(f["column"] for f in scalars) == sorted(ours), model["name"]
        for f in scalars:
            col = ours[f["column"]]
            if f["kind"] == "enum":
                assert enums[f["type"]] == col.type
                continue
            native = (f["nativeType"] or [None])[0]
            if col.type.startswith("character varying("):
                assert (f["type"], native, f["nativeType"][1]) == ("String", "VarChar", [col.type[18:-1]])
            else:
                assert (f["type"], native) == TYPES[col.type], (model["name"], f["name"], col.type)
            assert f["isList"] == col.type.endswith("[]") and (f["isRequired"] or f["isList"]) == (
                not col.nullable or f["isList"]
            )


def test_the_application_keeps_its_names(prisma_parser: Path, deployed: DatabaseURL, tmp_path: Path) -> None:
    with connect_to(deployed) as conn:
        dmmf = parse(prisma_parser, render(catalog.models_snapshot(conn)), tmp_path)
    fields = {
        (m["name"], f["name"]): f["column"]
        for m in dmmf["models"]
        for f in m["fields"]
        if f["kind"] != "object"
    }
    assert fields[("TaskReminder", "reminderAt")] == "remind_at"
    assert fields[("ProgressHistory", "timestamp")] == "recorded_at"
    assert (
        fields[("ChangeHistory", "entityType")] == "entity_type"
    )  # the hand-written table, camelCase in the client
    assert fields[("Task", "estimatedMinutes")] == "estimated_minutes"
    relations = {
        (m["name"], f["name"]): f["type"]
        for m in dmmf["models"]
        for f in m["fields"]
        if f["kind"] == "object"
    }
    assert relations[("Goal", "user")] == "User" and relations[("User", "goals")] == "Goal"


def test_the_parser_rejects_what_prisma_would(prisma_parser: Path, tmp_path: Path) -> None:
    broken = parse(
        prisma_parser,
        'datasource db {\n  provider = "postgresql"\n}\nmodel A {\n  id Strin @id\n}\n',
        tmp_path,
    )
    assert broken["valid"] is False and "Strin" in broken["error"]


def test_the_shipped_copy_is_current_and_validate_warns_when_it_is_not(
    deployed: DatabaseURL, project: Path, tmp_path: Path
) -> None:
    with connect_to(deployed) as conn:
        assert (SCRIPT_LOCATION / "schema.prisma").read_text() == render(catalog.models_snapshot(conn))
    edit(project, "migrations/schema.prisma", "model Task {", "model Tasks {")
    result = in_project(project, deployed, "migrate", "validate")
    assert result.code == 0 and "schema.prisma is stale" in result.output
