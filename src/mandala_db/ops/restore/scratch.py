"""Scratch databases (a drill's, a verification's): named after what made them, the database they serve and
the pid of the process that made it, so whoever finds one can tell whose it is, and the clean-up of each
purpose drops only the copies its own dead runs left."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from mandala_db.core.database import Database, quote_ident
from mandala_db.core.events import bus


def scratch_prefix(db: Database, purpose: str) -> str:
    """Scratch copies are named after what made them and the database they serve, so whoever finds one can
    tell whose it is, and a clean-up only ever looks at its own."""
    return f"mandala_{purpose}_{(db.url.dbname or 'db')[:24]}_"


def scratch_name(db: Database, purpose: str) -> str:
    """...and end with the pid of the process that made it (gone: the copy is a leftover)."""
    return f"{scratch_prefix(db, purpose)}{datetime.now(UTC):%Y%m%d%H%M%S}_{os.getpid()}"


def drop_leftover_scratch(db: Database, purpose: str) -> list[str]:
    """Scratch databases of this database's `purpose` (drill, verify) whose run died: nobody connected, and
    the process that made them gone (a run going on beside this one keeps its own). Each said in one line."""
    from mandala_db.core.owner import alive, pid_suffix

    prefix = scratch_prefix(db, purpose)
    with db.on("postgres").connect() as admin:
        candidates = [
            str(r[0])
            for r in admin.execute(
                """SELECT datname FROM pg_database d WHERE starts_with(datname, %s) AND NOT EXISTS
                   (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)""",
                (prefix,),
            ).fetchall()
        ]
        names = [n for n in candidates if not alive(pid_suffix(n) or 0)]
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
            bus.warning(f"{purpose}_leftover", f"dropped {name}, left by a {purpose} that did not finish")
    return names
