"""What each kind of statement does, by its parse node: its kind, whether it can run in a transaction, the
lock it takes on which table, what it creates, renames and rewrites. Read from PostgreSQL's documentation
of each command and held to pg_locks by tests/ops/migrate/test_classify.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mandala_db.ops.migrate.statement import (
    LOCK_ORDER,
    Statement,
    has_option,
    object_name,
    read_tables,
    take_lock,
)

# ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (PostgreSQL's ALTER TABLE documentation, and
# AlterTableGetLockLevel; tests/ops/migrate/test_classify.py reads each from pg_locks).
_WEAKER_SUBCOMMANDS = {
    **dict.fromkeys(
        ["AT_ValidateConstraint", "AT_SetStatistics", "AT_SetOptions", "AT_ResetOptions", "AT_ClusterOn",
         "AT_DropCluster", "AT_SetRelOptions", "AT_ResetRelOptions"],
        "SHARE UPDATE EXCLUSIVE",
    ),
    **dict.fromkeys(
        ["AT_EnableTrig", "AT_DisableTrig", "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser",
         "AT_DisableTrigUser", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig"],
        "SHARE ROW EXCLUSIVE",
    ),
}  # fmt: skip

# ALTER TABLE subcommands that write the whole table anew whatever the live database holds; a type change
# and a column computed per row depend on it, and are judged with the schema at hand (ops/migrate/effects).
_REWRITING_SUBCOMMANDS = {"AT_SetLogged", "AT_SetUnLogged", "AT_SetTableSpace", "AT_SetAccessMethod"}

# Statements PostgreSQL refuses inside a transaction block ("cannot run inside a transaction block").
_NEVER_IN_TRANSACTION = {
    "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
    "CreateSubscriptionStmt", "DropSubscriptionStmt",
}  # fmt: skip


def _alter_table(st: Statement, node: Any) -> None:
    table = object_name(node.relation)
    objtype = node.objtype.name if node.objtype is not None else "OBJECT_TABLE"
    if objtype == "OBJECT_INDEX":
        st.kind = "ALTER INDEX"  # SHARE UPDATE EXCLUSIVE on the index only; its table is not locked
        return
    if objtype not in ("OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
        st.kind = f"ALTER {objtype.removeprefix('OBJECT_')}"
        return
    for cmd in node.cmds or ():
        sub = cmd.subtype.name
        mode = _WEAKER_SUBCOMMANDS.get(sub, "ACCESS EXCLUSIVE")
        definition = cmd.def_
        if (
            sub == "AT_AddConstraint"
            and definition is not None
            and definition.contype.name == "CONSTR_FOREIGN"
        ):
            mode = "SHARE ROW EXCLUSIVE"
            take_lock(st, object_name(definition.pktable), "SHARE ROW EXCLUSIVE")
        if sub == "AT_AddColumn" and definition is not None:
            for constraint in definition.constraints or ():
                if constraint.contype.name == "CONSTR_FOREIGN":
                    take_lock(st, object_name(constraint.pktable), "SHARE ROW EXCLUSIVE")
        if sub == "AT_AttachPartition":
            mode = "SHARE UPDATE EXCLUSIVE"
            take_lock(st, object_name(definition.name), "ACCESS EXCLUSIVE")
        if sub == "AT_DetachPartition":
            mode = "SHARE UPDATE EXCLUSIVE" if definition.concurrent else "ACCESS EXCLUSIVE"
            take_lock(st, object_name(definition.name), mode)
            if definition.concurrent:
                st.transactional = False
        if sub in ("AT_AddInherit", "AT_DropInherit"):
            take_lock(st, object_name(definition), "SHARE UPDATE EXCLUSIVE")
        if sub in _REWRITING_SUBCOMMANDS:
            st.rewrites.add(table)
        take_lock(st, table, mode)


def _create_table(st: Statement, node: Any) -> None:
    st.kind = "CREATE TABLE"
    st.creates.add(object_name(node.relation))
    for element in node.tableElts or ():
        if type(element).__name__ == "TableLikeClause":
            take_lock(st, object_name(element.relation), "ACCESS SHARE")
        for constraint in getattr(element, "constraints", None) or [element]:
            if (
                getattr(constraint, "contype", None) is not None
                and constraint.contype.name == "CONSTR_FOREIGN"
            ):
                take_lock(st, object_name(constraint.pktable), "SHARE ROW EXCLUSIVE")
    for parent in node.inhRelations or ():
        # PARTITION OF takes the parent's strongest lock; INHERITS only keeps it from changing.
        take_lock(st, object_name(parent), "ACCESS EXCLUSIVE" if node.partbound else "SHARE UPDATE EXCLUSIVE")


def _create_table_as(st: Statement, node: Any) -> None:
    st.kind = "CREATE MATERIALIZED VIEW" if node.objtype.name == "OBJECT_MATVIEW" else "CREATE TABLE AS"
    st.creates.add(object_name(node.into.rel))
    for table in read_tables(node.query):
        take_lock(st, table, "ACCESS SHARE")


def _alter(st: Statement, node: Any) -> None:
    st.kind = "ALTER TABLE"
    _alter_table(st, node)


def _create_index(st: Statement, node: Any) -> None:
    st.kind = "CREATE INDEX" + (" CONCURRENTLY" if node.concurrent else "")
    st.index = node.idxname
    st.transactional = not node.concurrent
    take_lock(st, object_name(node.relation), "SHARE UPDATE EXCLUSIVE" if node.concurrent else "SHARE")


def _drop(st: Statement, node: Any) -> None:
    what = node.removeType.name.removeprefix("OBJECT_")
    st.kind = f"DROP {what}" + (" CONCURRENTLY" if node.concurrent else "")
    names = [object_name(obj) for obj in node.objects or ()]
    if what in ("TABLE", "MATVIEW", "FOREIGN_TABLE"):
        for name in names:
            take_lock(st, name, "ACCESS EXCLUSIVE")
    elif what == "INDEX":
        st.index = names[0] if names else None
        st.transactional = not node.concurrent
        for name in names:
            st.index_locks[name] = "SHARE UPDATE EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE"
    elif what in ("TRIGGER", "POLICY", "RULE"):
        for obj in node.objects or ():  # (table, name)
            if len(obj) >= 2:
                take_lock(st, str(obj[-2].sval), "ACCESS EXCLUSIVE")


def _rename(st: Statement, node: Any) -> None:
    what = node.renameType.name.removeprefix("OBJECT_")
    st.kind = f"RENAME {what}"
    # ALTER INDEX ... RENAME locks the index, not its table.
    if node.relation is not None and what != "INDEX":
        take_lock(st, object_name(node.relation), "ACCESS EXCLUSIVE")
    if what == "TABLE" and node.relation is not None and node.newname:
        st.renames[object_name(node.relation)] = str(node.newname)


def _reindex(st: Statement, node: Any) -> None:
    concurrent = has_option(node.params, "concurrently")
    what = node.kind.name.removeprefix("REINDEX_OBJECT_")
    st.kind = f"REINDEX {what}" + (" CONCURRENTLY" if concurrent else "")
    st.transactional = not concurrent and what not in ("SCHEMA", "DATABASE", "SYSTEM")
    mode = "SHARE UPDATE EXCLUSIVE" if concurrent else "SHARE"
    if what == "INDEX":
        st.index = object_name(node.relation)
        st.index_locks[st.index] = mode
    elif what == "TABLE":
        take_lock(st, object_name(node.relation), mode)


def _cluster(st: Statement, node: Any) -> None:
    st.kind = "CLUSTER"
    if node.relation is None:
        st.transactional = False  # CLUSTER of every table that was clustered before
    else:
        take_lock(st, object_name(node.relation), "ACCESS EXCLUSIVE")
        st.rewrites.add(object_name(node.relation))


def _vacuum(st: Statement, node: Any) -> None:
    full = has_option(node.options, "full")
    st.kind = ("VACUUM FULL" if full else "VACUUM") if node.is_vacuumcmd else "ANALYZE"
    st.transactional = not node.is_vacuumcmd
    for rel in node.rels or ():
        take_lock(st, object_name(rel.relation), "ACCESS EXCLUSIVE" if full else "SHARE UPDATE EXCLUSIVE")
        if full:
            st.rewrites.add(object_name(rel.relation))


def _truncate(st: Statement, node: Any) -> None:
    st.kind = "TRUNCATE"
    for rel in node.relations or ():
        take_lock(st, object_name(rel), "ACCESS EXCLUSIVE")


def _lock_table(st: Statement, node: Any) -> None:
    st.kind = "LOCK TABLE"
    for rel in node.relations or ():
        take_lock(st, object_name(rel), LOCK_ORDER[int(node.mode) - 1])


def _refresh(st: Statement, node: Any) -> None:
    st.kind = "REFRESH MATERIALIZED VIEW" + (" CONCURRENTLY" if node.concurrent else "")
    take_lock(st, object_name(node.relation), "EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE")


def _write(st: Statement, node: Any) -> None:
    st.kind = type(node).__name__.removesuffix("Stmt").upper()
    for table in read_tables(node):
        take_lock(st, table, "ACCESS SHARE")
    take_lock(st, object_name(node.relation), "ROW EXCLUSIVE")


def _read(st: Statement, node: Any) -> None:
    view = type(node).__name__ == "ViewStmt"
    st.kind = "CREATE VIEW" if view else "SELECT"
    for table in read_tables(node.query if view else node):
        take_lock(st, table, "ACCESS SHARE")


def _on_relation(kind: str, mode: str, attribute: str = "relation") -> Callable[[Statement, Any], None]:
    """A statement that takes one lock on the table it names."""

    def classify(st: Statement, node: Any) -> None:
        st.kind = kind
        take_lock(st, object_name(getattr(node, attribute)), mode)

    return classify


def _comment(st: Statement, node: Any) -> None:
    st.kind = "COMMENT"
    what = node.objtype.name
    parts = [p.sval for p in node.object] if isinstance(node.object, tuple) else []
    if what == "OBJECT_TABLE" and parts:
        take_lock(st, parts[-1], "SHARE UPDATE EXCLUSIVE")
    elif what == "OBJECT_COLUMN" and len(parts) >= 2:
        take_lock(st, parts[-2], "SHARE UPDATE EXCLUSIVE")


def _alter_enum(st: Statement, node: Any) -> None:
    st.kind = "ALTER TYPE ADD VALUE" if node.newVal and not node.oldVal else "ALTER TYPE RENAME VALUE"
    # A label added in a transaction cannot be used before it commits: run it on its own.
    st.transactional = st.kind != "ALTER TYPE ADD VALUE"


# What each kind of parse node does, by the node's class name (pglast's names for PostgreSQL's nodes).
_CLASSIFIERS: dict[str, Callable[[Statement, Any], None]] = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "AlterTableStmt": _alter,
    "IndexStmt": _create_index,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "ReindexStmt": _reindex,
    "ClusterStmt": _cluster,
    "VacuumStmt": _vacuum,
    "TruncateStmt": _truncate,
    "LockStmt": _lock_table,
    "RefreshMatViewStmt": _refresh,
    **dict.fromkeys(("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"), _write),
    **dict.fromkeys(("SelectStmt", "ViewStmt"), _read),
    "CreateTrigStmt": _on_relation("CREATE TRIGGER", "SHARE ROW EXCLUSIVE"),
    "CreatePolicyStmt": _on_relation("CREATE POLICY", "ACCESS EXCLUSIVE", "table"),
    "AlterPolicyStmt": _on_relation("ALTER POLICY", "ACCESS EXCLUSIVE", "table"),
    "RuleStmt": _on_relation("CREATE RULE", "ACCESS EXCLUSIVE"),
    "CommentStmt": _comment,
    "AlterEnumStmt": _alter_enum,
}
# Kinds that only need a name (their locks are on no table of the schema).
_NAMED = {
    "CreateEnumStmt": "CREATE TYPE",
    "DoStmt": "DO block",
    "TransactionStmt": "TRANSACTION",
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
}


def classify(st: Statement, node: Any) -> None:
    kind = type(node).__name__
    if kind in _NEVER_IN_TRANSACTION:
        st.transactional = False
    classify = _CLASSIFIERS.get(kind)
    if classify is not None:
        classify(st, node)
    else:
        st.kind = _NAMED.get(kind, kind.removesuffix("Stmt"))
