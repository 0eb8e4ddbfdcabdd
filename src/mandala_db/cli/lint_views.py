"""How `mandala-db lint` shows its findings: lines for people, one JSON document, GitHub workflow commands,
and a SARIF 2.1.0 log for code scanning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mandala_db import __version__
from mandala_db.cli.github import escape, relative
from mandala_db.cli.output import Screen
from mandala_db.ops.migrate.lint import RULES, LintFinding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _where(f: LintFinding) -> str:
    return f"{relative(Path(f.file))}:{f.line}" if f.line else relative(Path(f.file))


def human(console: Screen, paths: list[Path], findings: list[LintFinding]) -> None:
    for f in findings:
        console.print(f"{_where(f)}: {f.text()}", markup=False)
    errors = sum(f.blocking for f in findings)
    waived = sum(f.waived is not None for f in findings)
    console.print(
        f"{len(paths)} file(s): {errors} error(s), {len(findings) - errors - waived} warning(s), {waived} waived",
        markup=False,
    )


def document(paths: list[Path], findings: list[LintFinding]) -> dict[str, Any]:
    return {
        "ok": not any(f.blocking for f in findings),
        "files": [relative(p) for p in paths],
        "findings": [f.to_dict() | {"file": relative(Path(f.file))} for f in findings],
    }


def github(findings: list[LintFinding]) -> list[str]:
    """Workflow commands: an error or warning on the file and line; a waived one as a notice."""
    out = []
    for f in findings:
        level = "error" if f.blocking else ("notice" if f.waived else "warning")
        where = f"file={escape(relative(Path(f.file)), prop=True)}" + (f",line={f.line}" if f.line else "")
        out.append(
            f"::{level} {where},title={escape('mandala-db ' + f.rule, prop=True)}::{escape(f.text())}\n"
        )
    return out


def sarif(findings: list[LintFinding]) -> str:
    """A SARIF 2.1.0 log: every rule with its help, every finding a result on its file and line; a waived one
    carries an in-source suppression with the reason given."""
    rules = sorted(RULES.values(), key=lambda r: r.name)
    index = {r.name: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": relative(Path(f.file)).replace("\\", "/")}}
        if f.line:
            location["region"] = {"startLine": f.line}
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": "error" if f.severity == "error" else "warning",
            "message": {"text": f"{f.message}. Instead: {RULES[f.rule].alternative}"},
            "locations": [{"physicalLocation": location}],
        }
        if f.waived:
            result["suppressions"] = [{"kind": "inSource", "justification": f.waived}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mandala-db",
                        "version": __version__,
                        "informationUri": "https://github.com/goal-mandala/mandala-db",
                        "rules": [
                            {
                                "id": r.name,
                                "name": r.name,
                                "shortDescription": {"text": r.cost},
                                "fullDescription": {"text": f"{r.cost}. Lock: {r.lock}."},
                                "help": {"text": f"Instead: {r.alternative}"},
                                "defaultConfiguration": {
                                    "level": "error" if r.severity == "error" else "warning"
                                },
                                "properties": {"lock": r.lock},
                            }
                            for r in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def rules_table() -> str:
    """The rules as the README's Markdown table (the README's copy is tested against this)."""
    rows = [
        f"| `{r.name}` | {r.severity} | {r.lock} | {r.cost} | {r.alternative} |"
        for r in sorted(RULES.values(), key=lambda r: r.name)
    ]
    head = "| rule | severity | lock it takes | what it costs on a populated table | the safe way |\n|---|---|---|---|---|"
    return head + "\n" + "\n".join(row.replace("\n", " ") for row in rows) + "\n"
