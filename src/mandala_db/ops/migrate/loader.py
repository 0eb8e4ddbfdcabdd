"""Finds the revision files and orders them into the history, without importing Alembic.

Reading the headers as text keeps `migrate status` fast; Alembic loads the same files when it runs them.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from mandala_db.core.errors import BadInput
from mandala_db.migrations import VERSIONS
from mandala_db.migrations.backfill import PHASES, Backfill, Phase

REVISION_ID = re.compile(r"^\d{14}_[a-z0-9_]+$")
_ASSIGN = re.compile(
    r"^(revision|down_revision|destructive_downgrade|lock_timeout|statement_timeout|phase|closes)\s*(?::[^=]+)?=\s*(.+?)\s*$",
    re.M,
)
BASE = "base"


def _literal(text: str) -> str | None:
    text = text.strip()
    if text == "None":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    raise ValueError(text)


@dataclass(frozen=True)
class Revision:
    id: str
    down_revision: str | None
    path: Path
    title: str
    destructive_downgrade: str | None
    lock_timeout: str | None = None  # overrides the run's default for this revision
    statement_timeout: str | None = None
    # A squashed baseline's `replaces`: (revision id, checksum of its file) for every revision it stands
    # for, so a database that applied them is at this one's id already and their files are not "edited".
    replaces: tuple[tuple[str, str], ...] = ()
    phase: Phase | None = None  # expand, contract, or neither (applied by every deploy)
    closes: str | None = None  # a contract revision: the expand revision it finishes (default: the last one)
    backfills: tuple[Backfill, ...] = ()  # run after the revision's DDL has committed, in batches

    @property
    def accepted_checksums(self) -> set[str]:
        """The file checksums a database that is at this revision may have recorded for it: this file's,
        or, for a baseline, the file it replaced under the same id."""
        return {self.file_checksum} | {c for rid, c in self.replaces if rid == self.id}

    @cached_property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @cached_property
    def file_checksum(self) -> str:
        """sha256 of the file's tokens, without comments, blank lines or spacing: reformatting is invisible."""
        tokens: list[str] = []
        skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.INDENT, tokenize.DEDENT}
        for tok in tokenize.generate_tokens(io.StringIO(self.source).readline):
            if tok.type not in skip:
                tokens.append(tok.string if tok.type != tokenize.NEWLINE else ";")
        return hashlib.sha256("\x1f".join(tokens).encode()).hexdigest()


def read_revision(path: Path) -> Revision:
    text = path.read_text(encoding="utf-8")
    found: dict[str, str | None] = {}
    for key, value in _ASSIGN.findall(text):
        if key in found:
            continue
        try:
            found[key] = _literal(value)
        except ValueError:
            raise BadInput(
                f"revision file {path.name}: cannot read `{key} = {value}`", "use a plain string"
            ) from None
    rev = found.get("revision")
    if not rev:
        raise BadInput(f"revision file {path.name} declares no `revision`")
    doc = re.match(r'\s*(?:"""|\'\'\')(.*?)$', text, re.M)
    # A one-line docstring closes on the same line: its quotes are not part of the title.
    title = doc.group(1).strip().removesuffix('"""').removesuffix("'''").strip() if doc else rev
    return Revision(
        rev,
        found.get("down_revision"),
        path,
        title,
        found.get("destructive_downgrade"),
        found.get("lock_timeout"),
        found.get("statement_timeout"),
        _replaces(path, text) if re.search(r"^replaces\s*=", text, re.M) else (),
        _phase(path, found.get("phase")),
        found.get("closes"),
        _backfills(path, text) if re.search(r"^backfills\s*=", text, re.M) else (),
    )


def _phase(path: Path, value: str | None) -> Phase | None:
    if value is None:
        return None
    for phase in PHASES:
        if value == phase:
            return phase
    raise BadInput(f"revision file {path.name}: phase {value!r} is not expand or contract", "or leave it out")


_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _backfills(path: Path, text: str) -> tuple[Backfill, ...]:
    """`backfills = [Backfill(table, set=..., where=..., key=...)]`, read from the syntax tree: every
    argument a string literal, the table and key plain names."""
    problem = (
        f"revision file {path.name}: `backfills` must be a list of Backfill(table, set=..., where=..., key=...) "
        "with string literals"
    )
    try:
        value = next(
            node.value
            for node in ast.parse(text).body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "backfills" for t in node.targets)
        )
    except (SyntaxError, StopIteration):
        raise BadInput(problem) from None
    if not isinstance(value, ast.List):
        raise BadInput(problem)
    found = []
    for call in value.elts:
        if not (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Backfill"
        ):
            raise BadInput(problem)
        try:
            args = [ast.literal_eval(a) for a in call.args] + [None] * (4 - len(call.args))
            given = dict(zip(("table", "set", "where", "key"), args, strict=True))
            given.update({k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg})
            backfill = Backfill(given["table"], given["set"], given.get("where"), given.get("key") or "id")
        except (ValueError, TypeError, KeyError):
            raise BadInput(problem) from None
        if not all(isinstance(v, str) for v in (backfill.table, backfill.set, backfill.key)) or not (
            _NAME.fullmatch(backfill.table) and _NAME.fullmatch(backfill.key) and backfill.set.strip()
        ):
            raise BadInput(problem, "name the table and key as plain lower-case identifiers")
        found.append(backfill)
    return tuple(found)


def _replaces(path: Path, text: str) -> tuple[tuple[str, str], ...]:
    """A baseline's `replaces`: a literal list of (id, checksum) pairs, read without running the file."""
    try:
        tree = ast.parse(text)
        value = next(
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "replaces" for t in node.targets)
        )
        pairs = ast.literal_eval(value)
        if not all(
            isinstance(p, tuple)
            and len(p) == 2
            and REVISION_ID.match(p[0])
            and re.fullmatch(r"[0-9a-f]{64}", p[1])
            for p in pairs
        ):
            raise ValueError
    except (SyntaxError, StopIteration, ValueError, TypeError):
        raise BadInput(
            f"revision file {path.name}: `replaces` must be a literal list of (revision id, sha256) pairs",
            "write it again with `mandala-db migrate squash`",
        ) from None
    return tuple((str(a), str(b)) for a, b in pairs)


class History:
    """The revisions in order, from the first to the head. mandala-db keeps the history linear."""

    def __init__(self, revisions: list[Revision]) -> None:
        self.revisions = revisions
        self.by_id = {r.id: r for r in revisions}
        # Revisions squashed into a baseline, gone from the files: old id -> the baseline that stands for it.
        self.replaced = {old: r for r in revisions for old, _ in r.replaces if old not in self.by_id}

    @classmethod
    def load(cls, directory: Path = VERSIONS) -> History:
        found = [read_revision(p) for p in sorted(directory.glob("*.py")) if not p.name.startswith("_")]
        by_id: dict[str, Revision] = {}
        children: dict[str | None, list[Revision]] = {}
        for rev in found:
            if not REVISION_ID.match(rev.id):
                raise BadInput(f"revision id {rev.id!r} in {rev.path.name} is not YYYYMMDDHHMMSS_slug")
            if rev.id in by_id:
                raise BadInput(
                    f"revision id {rev.id} appears twice ({by_id[rev.id].path.name}, {rev.path.name})"
                )
            by_id[rev.id] = rev
            children.setdefault(rev.down_revision, []).append(rev)
            if rev.replaces and rev.down_revision is not None:
                raise BadInput(
                    f"revision {rev.id} replaces squashed revisions but revises {rev.down_revision}",
                    "a squashed baseline is the first revision: set its down_revision = None",
                )
        for rev in found:
            if rev.down_revision is not None and rev.down_revision not in by_id:
                raise BadInput(f"revision {rev.id} revises {rev.down_revision}, which does not exist")
        ordered: list[Revision] = []
        parent: str | None = None
        while kids := children.get(parent, []):
            if len(kids) > 1:
                names = ", ".join(k.id for k in kids)
                raise BadInput(
                    f"the history branches after {parent or 'base'}: {names}",
                    "rebase one of them onto the other (edit its down_revision)",
                )
            ordered.append(kids[0])
            parent = kids[0].id
        if len(ordered) != len(found):
            stray = sorted(set(by_id) - {r.id for r in ordered})
            raise BadInput(f"revisions not connected to the history: {', '.join(stray)}")
        return cls(ordered)

    @property
    def head(self) -> str | None:
        return self.revisions[-1].id if self.revisions else None

    def index(self, rev: str | None) -> int:
        """Position of a revision: -1 for base."""
        if rev is None or rev == BASE:
            return -1
        if rev in self.replaced:
            baseline = self.replaced[rev].id
            raise BadInput(
                f"the database is at revision {rev}, which the squashed baseline {baseline} replaces: "
                "it stopped before the baseline's last revision",
                f"bring it to {baseline} with the code from before the squash, then deploy with this one",
            )
        if rev not in self.by_id:
            raise BadInput(
                f"the database is at revision {rev}, which no revision file describes",
                "check out the code that wrote it, or mend the record with `migrate resolve`",
            )
        return self.revisions.index(self.by_id[rev])

    def after(self, rev: str | None) -> list[Revision]:
        return self.revisions[self.index(rev) + 1 :]

    def upto(self, rev: str | None) -> list[Revision]:
        return self.revisions[: self.index(rev) + 1]

    def named(self, ref: str) -> Revision:
        """The revision a ref names (an id, a unique prefix, or its name after the timestamp)."""
        rev = self.resolve(ref)
        if rev == BASE:
            raise BadInput("base is not a revision", "name one, e.g. its id or the words after its timestamp")
        return self.by_id[rev]

    def resolve(self, ref: str) -> str:
        """A full id, a unique prefix of one, `base`, or `head`."""
        ref = ref.strip()
        if ref in (BASE, "0"):
            return BASE
        if ref == "head":
            if not self.head:
                raise BadInput("there are no revisions yet")
            return self.head
        if ref in self.by_id:
            return ref
        matches = [r.id for r in self.revisions if r.id.startswith(ref) or r.id.split("_", 1)[1] == ref]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise BadInput(f"unknown revision {ref!r}", "see `mandala-db migrate rollback list` for the ids")
        raise BadInput(f"revision {ref!r} is ambiguous: {', '.join(matches)}", "give more of the id")
