"""How each statement moves the schema model on: the model after it has run, so that a later statement of
the plan is judged against the schema the earlier ones left. One function per kind of statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mandala_db.ops.migrate.model import SchemaModel, TableModel, type_of
from mandala_db.ops.migrate.statement import Statement, object_name, read_tables


def _constraint_columns(constraint: Any) -> tuple[str, ...]:
    return tuple(k.sval for k in getattr(constraint, "keys", None) or ())


def _not_null_check_column(constraint: Any) -> str | None:
    """The column of `CHECK (col IS NOT NULL)`, the check PostgreSQL 12+ lets SET NOT NULL trust."""
    expr: Any = getattr(constraint, "raw_expr", None)
    if type(expr).__name__ == "NullTest" and expr.nulltesttype.name == "IS_NOT_NULL":
        fields = getattr(expr.arg, "fields", None) or ()
        if fields and hasattr(fields[-1], "sval"):
            return str(fields[-1].sval)
    return None


def _add_constraint(t: TableModel, table: str, constraint: Any, column: str | None = None) -> None:
    contype = constraint.contype.name
    cols = _constraint_columns(constraint) or ((column,) if column else ())
    name = constraint.conname or f"{table}_{'_'.join(cols)}_{contype.lower()}"
    if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE") and len(cols) == 1:
        t.keys.add(cols[0])
    if contype == "CONSTR_PRIMARY" or contype == "CONSTR_NOTNULL":
        t.not_null.update(cols)
    if contype == "CONSTR_FOREIGN":
        fk_cols = tuple(a.sval for a in constraint.fk_attrs or ()) or cols
        t.foreign_keys[name] = (fk_cols, constraint.pktable.relname)
    if contype in ("CONSTR_CHECK", "CONSTR_FOREIGN") and constraint.skip_validation:
        t.not_valid[name] = _not_null_check_column(constraint)
    elif contype == "CONSTR_CHECK" and (col := _not_null_check_column(constraint)):
        t.checked_not_null.add(col)


def _column(t: TableModel, table: str, definition: Any) -> None:
    name = definition.colname
    t.columns[name] = type_of(definition.typeName) if definition.typeName is not None else None
    for constraint in definition.constraints or ():
        _add_constraint(t, table, constraint, name)


def _create_table(model: SchemaModel, st: Statement, node: Any) -> None:
    name = node.relation.relname
    t = model.tables[name] = TableModel(created=True)
    for element in node.tableElts or ():
        element_kind = type(element).__name__
        if element_kind == "ColumnDef":
            _column(t, name, element)
        elif element_kind == "Constraint":
            _add_constraint(t, name, element)
        elif element_kind == "TableLikeClause" and element.relation.relname in model.tables:
            t.columns.update(model.tables[element.relation.relname].columns)


def _create_table_as(model: SchemaModel, st: Statement, node: Any) -> None:
    model.tables[node.into.rel.relname] = TableModel(created=True)
    if node.objtype.name == "OBJECT_MATVIEW":
        model.views[node.into.rel.relname] = read_tables(node.query)


def _create_view(model: SchemaModel, st: Statement, node: Any) -> None:
    model.views[node.view.relname] = read_tables(node.query)


def _alter_table(model: SchemaModel, st: Statement, node: Any) -> None:
    if st.kind != "ALTER TABLE":
        return  # ALTER INDEX, ALTER SEQUENCE, ... parse to the same node
    table = node.relation.relname
    t = model.tables.setdefault(table, TableModel())
    for cmd in node.cmds or ():
        _subcommand(model, t, table, cmd)


def _subcommand(model: SchemaModel, t: TableModel, table: str, cmd: Any) -> None:
    sub = cmd.subtype.name
    if sub == "AT_AddColumn":
        _column(t, table, cmd.def_)
    elif sub == "AT_DropColumn":
        t.columns.pop(cmd.name, None)
        t.keys.discard(cmd.name)
        for conname, (cols, _) in list(t.foreign_keys.items()):
            if cmd.name in cols:
                del t.foreign_keys[conname]
    elif sub == "AT_AlterColumnType":
        t.columns[cmd.name] = type_of(cmd.def_.typeName)
    elif sub == "AT_SetNotNull":
        t.not_null.add(cmd.name)
    elif sub == "AT_DropNotNull":
        t.not_null.discard(cmd.name)
    elif sub == "AT_AddConstraint" and cmd.def_ is not None:
        _add_constraint(t, table, cmd.def_)
    elif sub == "AT_ValidateConstraint" and cmd.name in t.not_valid:
        if (col := t.not_valid.pop(cmd.name)) is not None:
            t.checked_not_null.add(col)
    elif sub == "AT_ValidateConstraint" and not model.complete:
        # Without a database, a constraint made NOT VALID by hand or in a file not linted is not known;
        # validating it before SET NOT NULL is the PostgreSQL 12+ sequence, so it is taken as that.
        t.validated_unknown.add(cmd.name)
    elif sub == "AT_DropConstraint":
        t.foreign_keys.pop(cmd.name, None)
        t.not_valid.pop(cmd.name, None)


def _create_index(model: SchemaModel, st: Statement, node: Any) -> None:
    model.indexes[node.idxname or f"{node.relation.relname}_idx"] = node.relation.relname
    params: Any = node.indexParams or ()
    if node.idxname:
        model.index_columns[node.idxname] = [p.name for p in params if p.name]
    if node.unique and len(params) == 1 and params[0].name and not node.whereClause:
        model.tables.setdefault(node.relation.relname, TableModel()).keys.add(params[0].name)


def _drop(model: SchemaModel, st: Statement, node: Any) -> None:
    what = node.removeType.name
    for obj in node.objects or ():
        name = object_name(obj)
        if what == "OBJECT_TABLE":
            model.tables.pop(name, None)
            for other in model.tables.values():  # CASCADE takes the foreign keys to it along
                for conname, (_, ref) in list(other.foreign_keys.items()):
                    if ref == name:
                        del other.foreign_keys[conname]
        elif what == "OBJECT_INDEX":
            model.indexes.pop(name, None)
        elif what == "OBJECT_TYPE":
            model.enums.pop(name, None)


def _rename(model: SchemaModel, st: Statement, node: Any) -> None:
    what = node.renameType.name
    if what == "OBJECT_TABLE" and node.relation is not None:
        _rename_table(model, node.relation.relname, node.newname)
    elif what == "OBJECT_COLUMN" and node.relation is not None:
        renamed = model.tables.get(node.relation.relname)
        if renamed is not None and node.subname in renamed.columns:
            renamed.columns[node.newname] = renamed.columns.pop(node.subname)
    elif what == "OBJECT_INDEX" and node.relation is not None:
        if node.relation.relname in model.indexes:
            model.indexes[node.newname] = model.indexes.pop(node.relation.relname)
    elif what == "OBJECT_TYPE":
        old = node.object[-1].sval if isinstance(node.object, tuple) else str(node.object)
        if old in model.enums:
            model.enums[node.newname] = model.enums.pop(old)


def _rename_table(model: SchemaModel, old: str, new: str) -> None:
    """The table, its indexes and the foreign keys that point at it, under the new name."""
    if old in model.tables:
        t = model.tables[new] = model.tables.pop(old)
        t.live_name = t.live_name or (old if model.complete else None)
    for index, table in model.indexes.items():
        if table == old:
            model.indexes[index] = new
    for other in model.tables.values():
        for conname, (cols, ref) in list(other.foreign_keys.items()):
            if ref == old:
                other.foreign_keys[conname] = (cols, new)


def _create_enum(model: SchemaModel, st: Statement, node: Any) -> None:
    model.enums[node.typeName[-1].sval] = [v.sval for v in node.vals or ()]


def _alter_enum(model: SchemaModel, st: Statement, node: Any) -> None:
    name = node.typeName[-1].sval
    if name in model.enums and node.newVal and not node.oldVal:
        model.enums[name] = [*model.enums[name], node.newVal]
    elif name in model.enums and node.oldVal and node.newVal:
        model.enums[name] = [node.newVal if v == node.oldVal else v for v in model.enums[name]]


_MOVES: dict[str, Callable[[SchemaModel, Statement, Any], None]] = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "ViewStmt": _create_view,
    "AlterTableStmt": _alter_table,
    "IndexStmt": _create_index,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "CreateEnumStmt": _create_enum,
    "AlterEnumStmt": _alter_enum,
}


def apply(model: SchemaModel, st: Statement) -> None:
    """What the statement leaves behind: the model after it has run (kinds not listed change nothing the
    rules read)."""
    node = st.tree()
    move = _MOVES.get(type(node).__name__)
    if move is not None:
        move(model, st, node)
