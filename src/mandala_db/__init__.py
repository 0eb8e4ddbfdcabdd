"""mandala-db: runs the whole life of the goal-mandala PostgreSQL database safely."""

__version__ = "0.1.0"
