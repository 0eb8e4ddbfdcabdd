"""Findings as GitHub Actions annotations (`::error file=...,line=...::message`) when GITHUB_ACTIONS=true:
the first ten of each level on the pull request's diff, as GitHub shows at most that many per step, and
every one in the step summary ($GITHUB_STEP_SUMMARY), so none is lost in the log."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PER_LEVEL = 10


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning, notice
    file: str | None
    line: int | None
    title: str
    message: str


def escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def emit(annotations: list[Annotation], *, json_output: bool = False) -> None:
    """On stdout, where the runner reads workflow commands; beside a --json document, on stderr (which it
    reads too), so the document stays valid JSON."""
    if os.environ.get("GITHUB_ACTIONS") != "true" or not annotations:
        return
    out = sys.stderr if json_output else sys.stdout
    shown: dict[str, int] = {}
    for a in annotations:
        shown[a.level] = shown.get(a.level, 0) + 1
        if shown[a.level] <= PER_LEVEL:
            where = f"file={escape(a.file, prop=True)},line={a.line}," if a.file is not None else ""
            out.write(f"::{a.level} {where}title={escape(a.title, prop=True)}::{escape(a.message)}\n")
    rows = "".join(
        f"| {a.level} | {f'`{a.file}:{a.line}`' if a.file else ''} | {a.title} | {a.message.replace('|', '/')} |\n"
        for a in annotations
    )
    summarize(
        f"### mandala-db findings ({len(annotations)})\n\n| level | where | check | finding |\n|---|---|---|---|\n{rows}"
    )


def summarize(markdown: str) -> None:
    """Append to the job summary of a GitHub Actions step (nothing elsewhere)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and summary:
        with Path(summary).open("a", encoding="utf-8") as f:
            f.write(markdown.rstrip("\n") + "\n\n")


def for_findings(findings: list[Any]) -> list[Annotation]:
    """validate's findings: lint ones point at the line of their revision file that names the object."""
    out = []
    for f in findings:
        level = "error" if f.severity == "error" else "warning"
        if f.path is not None:
            out.append(
                Annotation(
                    level, relative(f.path), line_of(f.path, list(f.names)), f.rule or f.check, f.message
                )
            )
        else:
            out.append(Annotation(level, None, None, f.check, f.message))
    return out


def line_of(path: Path, needles: list[str]) -> int:
    """The first line of a revision file that names one of `needles` (a table, a column), else the line of
    its upgrade function: where a reviewer should look."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    for needle in needles:
        for n, text in enumerate(lines, start=1):
            if (
                needle
                and needle in text
                and not text.lstrip().startswith(("#", '"""', "revision", "down_revision"))
            ):
                return n
    return next((n for n, text in enumerate(lines, start=1) if text.startswith("def upgrade")), 1)


def relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def for_lint(plans: list[Any]) -> list[Annotation]:
    """`migrate plan`'s lint findings, on the line of the revision file that names the object."""
    from mandala_db.ops.migrate.validate import statement_names

    return [
        Annotation(
            "error" if f.blocking else ("notice" if f.waived else "warning"),
            relative(p.revision.path),
            f.line or line_of(p.revision.path, list(statement_names(f.statement))),
            f.rule,
            f.text(),
        )
        for p in plans
        for f in p.findings
    ]


def outputs(values: dict[str, str]) -> None:
    """Step outputs (`$GITHUB_OUTPUT`) for later jobs: the plan's sha256, whether it needs a reviewer."""
    target = os.environ.get("GITHUB_OUTPUT")
    if os.environ.get("GITHUB_ACTIONS") == "true" and target:
        with Path(target).open("a", encoding="utf-8") as f:
            f.writelines(f"{k}={v}\n" for k, v in values.items())
