"""SQL that keeps a downgrade from losing data: rows and columns a downgrade removes are parked in an
archive schema, and the upgrade that recreates them brings them back.

The archive of schema S is `mandala_archive_S`, so that each application schema (and the scratch schemas
that `validate` builds the history in) has its own. Revisions call these helpers for SQL text, never for
live state, so `migrate plan` and offline rendering show exactly what runs; every block is plain PL/pgSQL
and works the same online and under `psql -f`. Enum values are parked as text, so the archive never pins a
type that the downgrade must rewrite or drop.
"""

from __future__ import annotations

ARCHIVE_PREFIX = "mandala_archive_"

_COPY_OUT = """DO $mandala$
DECLARE
    archive text := '{prefix}' || current_schema();
    select_list text;
BEGIN
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', archive);
    -- Enum columns (and arrays of enums) are kept as text; every other column keeps its type.
    SELECT string_agg(
               CASE WHEN t.typtype = 'e' OR et.typtype = 'e'
                    THEN format('%I::text AS %I', a.attname, a.attname)
                    ELSE quote_ident(a.attname) END,
               ', ' ORDER BY a.attnum)
      INTO select_list
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
     WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND {column_filter};
    -- Fails if an earlier archive was never restored: better than overwriting it.
    EXECUTE format('CREATE TABLE %I.%I AS SELECT %s FROM {table}', archive, '{archive_name}', select_list);
END
$mandala$"""

_RESTORE_ROWS = """DO $mandala$
DECLARE
    archive text := '{prefix}' || current_schema();
    columns text;
    casts text;
BEGIN
    IF to_regclass(format('%I.%I', archive, '{table}')) IS NULL THEN
        RETURN;
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('%I::%s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
      INTO columns, casts
      FROM pg_attribute a
     WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname IN (SELECT column_name FROM information_schema.columns
                          WHERE table_schema = archive AND table_name = '{table}');
    EXECUTE format('INSERT INTO {table} (%s) SELECT %s FROM %I.%I', columns, casts, archive, '{table}');
    EXECUTE format('DROP TABLE %I.%I', archive, '{table}');
END
$mandala$"""

_RESTORE_COLUMNS = """DO $mandala$
DECLARE
    archive text := '{prefix}' || current_schema();
    assignments text;
BEGIN
    IF to_regclass(format('%I.%I', archive, '{archive_name}')) IS NULL THEN
        RETURN;
    END IF;
    SELECT string_agg(format('%I = s.%I::%s', a.attname, a.attname, format_type(a.atttypid, a.atttypmod)), ', ')
      INTO assignments
      FROM pg_attribute a
     WHERE a.attrelid = '{table}'::regclass AND a.attname IN ({columns});
    -- Restoring old values is not an edit: keep updated_at as it was.
    ALTER TABLE {table} DISABLE TRIGGER USER;
    EXECUTE format('UPDATE {table} AS t SET %s FROM %I.%I AS s WHERE t.id = s.id',
                   assignments, archive, '{archive_name}');
    ALTER TABLE {table} ENABLE TRIGGER USER;
    EXECUTE format('DROP TABLE %I.%I', archive, '{archive_name}');
END
$mandala$"""


def _literal_list(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def park_rows(table: str) -> str:
    """Downgrade, before the table is dropped: copy every row into the archive."""
    return _COPY_OUT.format(prefix=ARCHIVE_PREFIX, table=table, archive_name=table, column_filter="true")


def restore_rows(table: str) -> str:
    """Upgrade, after the table is created: bring parked rows back (a no-op when nothing is parked)."""
    return _RESTORE_ROWS.format(prefix=ARCHIVE_PREFIX, table=table)


def park_columns(table: str, *columns: str) -> str:
    """Downgrade, before columns are dropped: keep (id, column...) in the archive."""
    return _COPY_OUT.format(
        prefix=ARCHIVE_PREFIX,
        table=table,
        archive_name=f"{table}__{'__'.join(columns)}",
        column_filter=f"a.attname IN ('id', {_literal_list(columns)})",
    )


def restore_columns(table: str, *columns: str) -> str:
    """Upgrade, after the columns are added back: put the parked values back on their rows."""
    return _RESTORE_COLUMNS.format(
        prefix=ARCHIVE_PREFIX,
        table=table,
        archive_name=f"{table}__{'__'.join(columns)}",
        columns=_literal_list(columns),
    )
