"""Alembic environment. mandala-db hands in an open connection inside its own transaction (one revision per
transaction, recorded in the run ledger); offline mode renders plain PostgreSQL for `psql -f`."""

from alembic import context

# Alembic's default varchar(32) is too short for ids like 20250108000000_add_progress_and_change_history.
VERSION_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(255) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)

config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name="postgresql",
        literal_binds=True,
        transactional_ddl=True,
        transaction_per_migration=True,
        output_buffer=config.attributes.get("output_buffer"),
    )
    context.execute(VERSION_TABLE_DDL)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes["connection"]
    connection.exec_driver_sql(VERSION_TABLE_DDL)
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
