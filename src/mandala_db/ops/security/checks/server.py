"""The server itself: stored password hashes, pgAudit, data checksums, the archiver, the minor release."""

from __future__ import annotations

from mandala_db.ops.security.checks.registry import NEWEST_MINOR, RELEASES_AS_OF, Check, _setting_check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import FAIL, UNKNOWN, Finding


@check(
    "server.md5-passwords",
    "no password is stored as an MD5 hash",
    "high",
    "set password_encryption = 'scram-sha-256', then set each listed role's password again (ALTER ROLE ... PASSWORD)",
    cis="5.4",
)
def _md5_passwords(c: Check, facts: Facts) -> list[Finding]:
    hashes, why = facts.password_hashes
    if hashes is None:
        return c.skipped(why)
    md5 = [role for role, kind in hashes if kind == "md5"]
    if not md5:
        return c.passed(f"{len(hashes)} password(s), none MD5")
    return [
        c.finding(FAIL, "the password hash is MD5 (replayable, and cracked fast)", object=f"role {r}")
        for r in md5
    ]


@check(
    "server.pgaudit",
    "pgAudit is loaded",
    "low",
    "shared_preload_libraries = 'pgaudit'; CREATE EXTENSION pgaudit; pgaudit.log = 'ddl,role'",
    cis="3.2",
)
def _pgaudit(c: Check, facts: Facts) -> list[Finding]:
    available = facts.conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit'").fetchone()
    if not available:
        return c.skipped("not applicable: pgaudit is not installed on this server")
    libraries = facts.setting("shared_preload_libraries")
    if libraries is None:
        return c.skipped("not enough privilege to read shared_preload_libraries")
    return (c.passed if "pgaudit" in libraries else c.failed)(f"shared_preload_libraries = {libraries!r}")


@check(
    "server.data-checksums",
    "data checksums detect silent corruption",
    "low",
    "initdb --data-checksums (or pg_checksums --enable while the server is stopped)",
    cis="1.4",
)
def _checksums(c: Check, facts: Facts) -> list[Finding]:
    return _setting_check(c, facts, "data_checksums", lambda v: v == "on")


@check(
    "server.archiver",
    "WAL archiving does not fail",
    "medium",
    "fix archive_command (see the server log), then watch pg_stat_archiver",
    cis="7.4",
)
def _archiver(c: Check, facts: Facts) -> list[Finding]:
    if facts.setting("archive_mode") in (None, "off"):
        return c.skipped(
            "not applicable: archive_mode is off" if facts.setting("archive_mode") else "not enough privilege"
        )
    row = facts.conn.execute(
        "SELECT failed_count, last_failed_time > coalesce(last_archived_time, '-infinity') FROM pg_stat_archiver"
    ).fetchone()
    if row and row[1]:
        return c.failed(f"the last archiving attempt failed ({row[0]} failure(s) in all)")
    return c.passed(f"no archiving failure since the last one succeeded ({row[0] if row else 0} in all)")


@check(
    "server.minor-version",
    "the server runs the newest minor release of its major version",
    "medium",
    "install the newest minor release (binary compatible: a restart, no dump and restore)",
    cis="1.5",
)
def _minor(c: Check, facts: Facts) -> list[Finding]:
    num = int(facts.setting("server_version_num") or 0)
    major, minor = num // 10000, num % 10000
    newest = NEWEST_MINOR.get(major)
    if newest is None:
        return c.skipped(
            f"not applicable: no release data for PostgreSQL {major} (table as of {RELEASES_AS_OF})"
        )
    text = (
        f"PostgreSQL {major}.{minor}; the newest this tool knows (as of {RELEASES_AS_OF}) is {major}.{newest}"
    )
    if minor > newest:
        return [c.finding(UNKNOWN, f"PostgreSQL {major}.{minor} is newer than this tool's release table "
                          f"({major}.{newest}, as of {RELEASES_AS_OF}): whether it is the newest cannot be told")]  # fmt: skip
    return (c.failed if minor < newest else c.passed)(text)
