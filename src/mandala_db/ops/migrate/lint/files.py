"""`mandala-db lint [FILE...]`: the rules without a database, on revision files or plain `.sql` files.
What the tables hold is not known, so every table counts as populated unless the linted files create it;
column types, keys, indexes and enums come from the project's history, read from its own SQL up to the
first revision linted, so varchar growth is known to be safe without a database."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

from mandala_db.core.errors import BadInput
from mandala_db.ops.migrate.analysis import SqlSyntaxError, analyze
from mandala_db.ops.migrate.lint.engine import LintFinding, Unit, lint_units
from mandala_db.ops.migrate.loader import History, Revision, read_revision
from mandala_db.ops.migrate.locate import line_at, line_in_source
from mandala_db.ops.migrate.model import SchemaModel
from mandala_db.ops.migrate.moves import apply
from mandala_db.ops.migrate.rendered import Renderer, named_syntax_error


def render_standalone(rev: Revision) -> str:
    """A revision file outside the history, rendered offline through Alembic's operations alone: its
    upgrade() as SQL, without a script directory or a database."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    spec = importlib.util.spec_from_file_location(f"_mandala_lint_{rev.id}", rev.path)
    if spec is None or spec.loader is None:
        raise BadInput(f"{rev.path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise BadInput(f"{rev.path}, line {exc.lineno}: {exc.msg}", "fix the revision file") from None
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True}
    )
    with Operations.context(context):
        module.upgrade()
    sys.modules.pop(spec.name, None)
    return buffer.getvalue()


def _history_model(history: History, before: str | None, renderer: Renderer) -> SchemaModel:
    """The schema the history builds up to (not including) `before`, every table of unknown size."""
    model = SchemaModel()
    for rev in history.revisions:
        if rev.id == before:
            break
        for st in renderer.step(rev, "upgrade").statements:
            apply(model, st)
    for table in model.tables.values():
        table.created = False
    model.existing_enums = set(model.enums)
    return model


def _unit_of_sql(path: Path) -> Unit:
    text = path.read_text(encoding="utf-8")
    try:
        statements = analyze(text)
    except SqlSyntaxError as exc:
        where = f", line {line_at(text, exc.offset)}" if exc.offset is not None else ""
        raise BadInput(f"{path}{where}: {exc.message}", "fix the SQL, then lint again") from None
    return Unit(path.name, path, text, statements, line_of=lambda st: line_at(text, st.offset))


def lint_files(paths: list[Path], cache_dir: Path | None = None) -> list[LintFinding]:
    """Lint the files in the order given (revisions sorted by their place in the history)."""
    for path in paths:
        if not path.is_file():
            raise BadInput(f"{path}: no such file", "name revision files (.py) or SQL files (.sql)")
        if path.suffix not in (".py", ".sql"):
            raise BadInput(f"{path}: neither a revision (.py) nor a SQL file (.sql)")
    renderer = Renderer(cache_dir)
    try:
        history: History | None = History.load()
    except BadInput:
        history = None  # a broken history is `validate`'s to report; the files are still linted
    in_history = {r.path.resolve(): r for r in history.revisions} if history else {}
    revisions = [read_revision(p) for p in paths if p.suffix == ".py"]
    order = {r.id: i for i, r in enumerate(history.revisions)} if history else {}
    revisions.sort(key=lambda r: order.get(r.id, len(order)))
    first = next((r.id for r in revisions if r.path.resolve() in in_history), None)
    model = _history_model(history, first, renderer) if history else SchemaModel()
    units: list[Unit] = []
    for rev in revisions:
        if rev.path.resolve() in in_history:
            statements = renderer.step(in_history[rev.path.resolve()], "upgrade").statements
        else:
            sql = render_standalone(rev)
            try:
                statements = analyze(sql)
            except SqlSyntaxError as exc:
                raise named_syntax_error(rev, sql, exc) from None
        source = rev.source
        units.append(
            Unit(rev.id, rev.path, source, statements, rev.destructive_downgrade,
                 lambda st, source=source: line_in_source(source, st))  # type: ignore[misc]
        )  # fmt: skip
    units += [_unit_of_sql(p) for p in paths if p.suffix == ".sql"]
    return lint_units(units, model)
