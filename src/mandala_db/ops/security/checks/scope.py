"""What the object checks look at, said once: the schemas that are the database's own (every one but
PostgreSQL's), objects that are not an extension's, the privileges that write, and the kinds of relation."""

from __future__ import annotations

# Schemas that belong to PostgreSQL itself; every other one is judged, not only public and the application's.
USER_SCHEMAS = """n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
    AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'"""
NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
WRITES = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
KINDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
}
