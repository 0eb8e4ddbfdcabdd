"""What every model of the schema is built from: the metadata and its naming convention, the declarative
base, the column mixins (id, created_at, updated_at), the constraint helpers, and the updated_at trigger."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    MetaData,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import TIMESTAMP, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic names are what make drift detection and exact downgrades possible.
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

TZ = TIMESTAMP(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


def pg_enum(cls: type[enum.Enum], name: str) -> SAEnum:
    return SAEnum(cls, name=name, metadata=metadata, values_callable=lambda e: [m.value for m in e])


def label(value: enum.Enum) -> Any:
    """A server default for an enum column."""
    return text(f"'{value.value}'")


def fk(target: str) -> ForeignKey:
    return ForeignKey(f"{target}.id", ondelete="CASCADE")


def progress_check(column: str = "progress") -> CheckConstraint:
    return CheckConstraint(f"{column} BETWEEN 0 AND 100", name=f"{column}_range")


def one_of(column: str, *values: str) -> CheckConstraint:
    """`column IN (...)` on a varchar column, written with text on both sides: PostgreSQL stores the plain
    form as an array of varchar cast to text[], which a dump and restore turn into another (equivalent)
    expression, so the schema fingerprint of a restored database would differ. This form is a fixed point."""
    listed = ", ".join(f"'{v}'::text" for v in values)
    return CheckConstraint(f"{column}::text IN ({listed})", name=f"{column}_allowed")


def nonnegative(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_nonnegative")


class WithId:
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"), sort_order=-10
    )


class WithCreated:
    created_at: Mapped[datetime] = mapped_column(TZ, nullable=False, server_default=func.now(), sort_order=10)


class WithTimestamps(WithCreated):
    updated_at: Mapped[datetime] = mapped_column(TZ, nullable=False, server_default=func.now(), sort_order=11)


# One trigger function keeps updated_at current for every write, including raw SQL that bypasses the ORM.
SET_UPDATED_AT_FUNCTION = """CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$"""


def updated_at_trigger_sql(table: str) -> str:
    return (
        f"CREATE TRIGGER trg_{table}_set_updated_at BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
