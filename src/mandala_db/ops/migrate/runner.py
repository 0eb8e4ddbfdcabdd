"""Alembic as the engine: the revision files run online (one step at a time, under our executor) or
rendered offline to SQL (for plan, lint, checksums and statements that cannot run in a transaction)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mandala_db.core.ledger import Direction
from mandala_db.migrations import SCRIPT_LOCATION
from mandala_db.ops.migrate.loader import BASE, Revision

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection


class AlembicRunner:
    """Alembic as the engine: one ScriptDirectory, env.py run once per step (online) or per rendering."""

    def __init__(self, versions: Path | None = None) -> None:
        """`versions`: another folder of revision files than the package's (squash's, in a copy)."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        self.config = Config()
        self.config.set_main_option("script_location", str(SCRIPT_LOCATION))
        if versions is not None:
            self.config.set_main_option("path_separator", "os")  # one folder, spaces and all
            self.config.set_main_option("version_locations", str(versions))
        self.script: ScriptDirectory = ScriptDirectory.from_config(self.config)

    def _steps_fn(self, destination: str, direction: Direction) -> Callable[[Any, Any], Any]:
        def fn(rev: Any, context: Any) -> Any:
            if direction == "upgrade":
                return self.script._upgrade_revs(destination, rev)
            return self.script._downgrade_revs(destination, rev)

        return fn

    def run(self, connection: Connection, destination: str, direction: Direction) -> None:
        from alembic.runtime.environment import EnvironmentContext

        self.config.attributes["connection"] = connection
        with EnvironmentContext(
            self.config, self.script, fn=self._steps_fn(destination, direction), destination_rev=destination
        ):
            self.script.run_env()

    def render(self, start: str | None, destination: str, direction: Direction = "upgrade") -> str:
        """The SQL that moving from start to destination runs, rendered offline."""
        from alembic.runtime.environment import EnvironmentContext

        buffer = io.StringIO()
        self.config.attributes["output_buffer"] = buffer
        try:
            with EnvironmentContext(
                self.config,
                self.script,
                fn=self._steps_fn(destination, direction),
                as_sql=True,
                starting_rev=start,
                destination_rev=destination,
            ):
                self.script.run_env()
        finally:
            self.config.attributes.pop("output_buffer", None)
        return buffer.getvalue()

    def revision_sql(self, rev: Revision, direction: Direction = "upgrade") -> str:
        if direction == "upgrade":
            return self.render(rev.down_revision, rev.id, "upgrade")
        return self.render(rev.id, rev.down_revision or BASE, "downgrade")


def sql_checksum(sql: str) -> str:
    """Whitespace-insensitive: reflowing a statement is not a semantic change."""
    return hashlib.sha256(" ".join(sql.split()).encode()).hexdigest()
