"""ops/security/checks/settings.py: each weak setting planted is found, and cipher lists are read as OpenSSL
reads them."""

from __future__ import annotations

import pytest

from ops.security.securitykit import check, plant_sql
from servers import ScratchServer

SETTINGS = [
    ("lo_compat_privileges = on", "server.lo-compat-privileges"),
    ("allow_system_table_mods = on", "server.system-table-mods"),
    ("log_min_messages = 'error'", "log.min-messages"),
    ("log_min_error_statement = 'panic'", "log.min-error-statement"),
    ("log_error_verbosity = 'terse'", "log.error-verbosity"),
    ("debug_print_parse = on", "log.debug-print-parse"),
    ("log_hostname = on", "log.hostname"),
    ("log_file_mode = '0644'", "log.file-mode"),
    ("authentication_timeout = '5min'", "server.authentication-timeout"),
]


@pytest.mark.parametrize(("setting", "ident"), SETTINGS, ids=[s[1] for s in SETTINGS])
def test_a_weak_setting_is_found(setting: str, ident: str, scratch_server: ScratchServer) -> None:
    before = {f["id"]: f["status"] for f in check(scratch_server.url)}
    assert before.get(ident) in ("pass", "skipped"), before.get(ident)
    name, value = setting.split(" = ")
    plant_sql(scratch_server, f"ALTER SYSTEM SET {name} = {value}", "SELECT pg_reload_conf()")
    found = [f for f in check(scratch_server.url) if f["id"] == ident]
    assert [f["status"] for f in found] == ["fail"], found


def test_weak_cipher_families_are_read_as_openssl_reads_them() -> None:
    from mandala_db.ops.security.checks.settings import weak_ciphers

    assert weak_ciphers("HIGH:MEDIUM:+3DES:!aNULL") == []  # PostgreSQL's default: +3DES only reorders
    assert weak_ciphers("HIGH:!aNULL:!eNULL:!EXPORT:!RC4") == []
    assert weak_ciphers("HIGH:RC4:EXPORT") == ["RC4", "EXPORT"]
    assert weak_ciphers("ALL:eNULL") == ["ENULL"]
