"""Alembic environment. mandala-db hands in an open connection inside its own transaction (one revision per
transaction, recorded in the run ledger); offline mode renders plain PostgreSQL for `psql -f`."""

from alembic import context
from sqlalchemy import String


def widen_version_column() -> None:
    # Alembic's version_num is varchar(32): too short for ids like
    # 20250108000000_add_progress_and_change_history. Widen the Table it creates (online and offline alike).
    context.get_context()._version.c.version_num.type = String(255)


config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name="postgresql",
        literal_binds=True,
        # Named parameters: with the driver's pyformat style every % would be doubled, and the PL/pgSQL
        # format('%I') calls would reach psql (and the statement-by-statement executor) as '%%I'.
        dialect_opts={"paramstyle": "named"},
        transactional_ddl=True,
        transaction_per_migration=True,
        output_buffer=config.attributes.get("output_buffer"),
    )
    widen_version_column()
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(connection=config.attributes["connection"], transactional_ddl=True)
    widen_version_column()
    with context.begin_transaction():
        context.run_migrations()
