"""The goal-mandala data model: the single source of truth the migration history must build."""

from mandala_db.schema.models import Base, metadata

__all__ = ["Base", "metadata"]
