"""A statement the schema says cannot succeed: it creates a column, table, index or enum label that is
already there, drops a table other tables reference or a type columns use without CASCADE, or (against a
live database, where the schema is known in full) names a table, column or index that is not there. What
exists is known without a database too (the history built it); what does not, only with one. The deploy
would stop there, with the revision's earlier statements rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mandala_db.ops.migrate.analysis import Statement
from mandala_db.ops.migrate.lint.inspect import alter_commands, dropped, node_kind
from mandala_db.ops.migrate.lint.registry import Scope, rule
from mandala_db.ops.migrate.model import SchemaModel

_COLUMN_CHANGES = {
    "AT_DropColumn",
    "AT_AlterColumnType",
    "AT_SetNotNull",
    "AT_DropNotNull",
    "AT_ColumnDefault",
}


@rule(
    "fails-at-deploy", "error", "none: the statement fails before it changes anything",
    "a statement the live schema says will fail: the deploy stops at it and the revision is rolled back",
    "fix the revision against the schema as it is (or add IF EXISTS / IF NOT EXISTS where either is fine)",
)  # fmt: skip
def check(st: Statement, scope: Scope) -> Iterator[str]:
    model = scope.model
    node = st.node
    kind = node_kind(st)
    if kind == "AlterTableStmt" and st.kind == "ALTER TABLE" and not _elsewhere(node.relation, model):
        table = node.relation.relname
        t = model.tables.get(table)
        if t is None:
            if model.complete and not node.missing_ok and table not in model.views:
                yield f"alters {table}, which does not exist"
            return
        for _, sub, cmd in alter_commands(st):
            if sub == "AT_AddColumn" and cmd.def_.colname in t.columns and not cmd.missing_ok:
                yield f"adds {table}.{cmd.def_.colname}, which exists already"
            elif (
                sub in _COLUMN_CHANGES
                and model.complete
                and cmd.name
                and cmd.name not in t.columns
                and not cmd.missing_ok
            ):
                yield f"changes {table}.{cmd.name}, which does not exist"
    elif kind == "CreateStmt" and not node.if_not_exists and not _elsewhere(node.relation, model):
        if node.relation.relname in model.tables:
            yield f"creates {node.relation.relname}, which exists already"
    elif kind == "IndexStmt" and node.idxname and not node.if_not_exists and node.idxname in model.indexes:
        yield f"creates index {node.idxname}, which exists already"
    elif kind == "DropStmt" and not node.missing_ok:
        for table in dropped(st, "OBJECT_TABLE"):
            if table not in model.tables:
                if model.complete:
                    yield f"drops {table}, which does not exist"
            elif node.behavior.name != "DROP_CASCADE" and (refs := model.referencing(table)):
                yield f"drops {table} without CASCADE while {', '.join(refs)} reference it"
        for index in dropped(st, "OBJECT_INDEX"):
            if index not in model.indexes and model.complete:
                yield f"drops index {index}, which does not exist"
        for name in dropped(st, "OBJECT_TYPE"):
            users = sorted(
                f"{tn}.{cn}"
                for tn, t in model.tables.items()
                for cn, ty in t.columns.items()
                if ty and ty[0] == name
            )
            if users and node.behavior.name != "DROP_CASCADE":
                yield f"drops type {name} without CASCADE while {', '.join(users)} use it"
    elif kind == "AlterEnumStmt" and node.newVal and not node.oldVal and not node.skipIfNewValExists:
        labels = model.enums.get(node.typeName[-1].sval)
        if labels is not None and node.newVal in labels:
            yield f"adds {node.newVal} to enum {node.typeName[-1].sval}, which has it already"


def _elsewhere(relation: Any, model: SchemaModel) -> bool:
    """A name qualified with another schema than the model's: not what the model knows."""
    schema = getattr(relation, "schemaname", None)
    return bool(schema) and schema != model.schema
