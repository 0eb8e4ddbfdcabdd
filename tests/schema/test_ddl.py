"""schema/ddl: the models as the CREATE statements SQLAlchemy emits, in an order PostgreSQL accepts: every
enum type before the tables, and every table after the tables its foreign keys point at."""

from __future__ import annotations

import re

from mandala_db.schema.ddl import models_ddl
from mandala_db.schema.enums import PG_ENUMS
from mandala_db.schema.models import metadata


def test_every_table_and_enum_type_is_created_once() -> None:
    statements = models_ddl()
    tables = [m.group(1) for s in statements if (m := re.match(r"CREATE TABLE (\w+)", s))]
    types = [m.group(1) for s in statements if (m := re.match(r"CREATE TYPE (\w+) AS ENUM", s))]
    assert sorted(tables) == sorted(metadata.tables)
    assert sorted(types) == sorted(PG_ENUMS)


def test_types_come_first_and_each_table_after_the_ones_it_references() -> None:
    statements = models_ddl()
    first_table = next(i for i, s in enumerate(statements) if s.startswith("CREATE TABLE"))
    assert all(not s.startswith("CREATE TYPE") for s in statements[first_table:])
    created: set[str] = set()
    for s in statements:
        if m := re.match(r"CREATE TABLE (\w+)", s):
            referenced = set(re.findall(r"REFERENCES (\w+)", s)) - {m.group(1)}
            assert referenced <= created, f"{m.group(1)} references {referenced - created} before they exist"
            created.add(m.group(1))
