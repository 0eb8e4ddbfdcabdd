"""Against a PostgreSQL with TLS on loopback and a throw-away CA: verify-full connects and is reported as
verified; with hostssl-only rules the unencrypted probe is refused and the check passes, with plain host
rules it fails."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from conftest import run_cli
from servers import TlsServer


def finding(tls: TlsServer, ident: str, *params: tuple[str, str]) -> dict[str, Any]:
    url = dataclasses.replace(tls.url, params=params)
    result = run_cli("--json", "security", "check", "--fail-on", "high", url=url)
    assert result.stdout, result.output
    (found,) = [f for f in json.loads(result.stdout)["findings"] if f["id"] == ident]
    return found


def test_verify_full_connects_and_is_reported_verified(tls_server: TlsServer) -> None:
    tls_server.use_hba("hostssl all all 127.0.0.1/32 trust")
    verify = (("sslmode", "verify-full"), ("sslrootcert", str(tls_server.ca)))
    sslmode = finding(tls_server, "conn.sslmode", *verify)
    assert sslmode["status"] == "pass" and "verified" in sslmode["evidence"], sslmode
    encrypted = finding(tls_server, "conn.encrypted", *verify)
    assert encrypted["status"] == "pass" and "TLSv1." in encrypted["evidence"], encrypted
    require = finding(tls_server, "conn.sslmode", ("sslmode", "require"))
    assert require["status"] == "fail" and "man in the middle" in require["evidence"]


def test_hostssl_only_refuses_the_plaintext_probe_and_host_rules_do_not(tls_server: TlsServer) -> None:
    verify = (("sslmode", "verify-full"), ("sslrootcert", str(tls_server.ca)))
    tls_server.use_hba("hostssl all all 127.0.0.1/32 trust")
    refused = finding(tls_server, "conn.plaintext-refused", *verify)
    assert refused["status"] == "pass", refused
    tls_server.use_hba("host all all 127.0.0.1/32 trust")
    accepted = finding(tls_server, "conn.plaintext-refused", *verify)
    assert accepted["status"] == "fail" and "was accepted" in accepted["evidence"], accepted
    tls_server.use_hba("hostssl all all 127.0.0.1/32 trust")
