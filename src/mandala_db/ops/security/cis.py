"""The benchmark the checks are numbered by: CIS PostgreSQL 17 Benchmark v1.1.0, the one pgdsat 2.0 follows.

Only the recommendations a check here answers are listed, each with the benchmark's own title, so a
report can name what the number means and a check cannot cite a number the benchmark does not have (the
registry refuses it at import). The numbers moved between editions (data checksums were 1.3.3 in pgdsat's
CIS 16 list and are part of 1.4 here; `password_encryption` was 5.9 and is part of 5.4): this table, not
memory, is the source.
"""

from __future__ import annotations

BENCHMARK = "CIS PostgreSQL 17 Benchmark v1.1.0"

RECOMMENDATIONS = {
    "1.4": "Ensure Data Cluster Initialized Successfully",
    "1.5": "Ensure the Latest Security Patches are Applied",
    "3.1.6": "Ensure the log file permissions are set correctly",
    "3.1.14": "Ensure the correct messages are written to the server log",
    "3.1.15": "Ensure the correct SQL statements generating errors are recorded",
    "3.1.16": "Ensure 'debug_print_parse' is disabled",
    "3.1.17": "Ensure 'debug_print_rewritten' is disabled",
    "3.1.18": "Ensure 'debug_print_plan' is disabled",
    "3.1.19": "Ensure 'debug_pretty_print' is enabled",
    "3.1.20": "Ensure 'log_connections' is enabled",
    "3.1.21": "Ensure 'log_disconnections' is enabled",
    "3.1.22": "Ensure 'log_error_verbosity' is set correctly",
    "3.1.23": "Ensure 'log_hostname' is set correctly",
    "3.1.24": "Ensure 'log_line_prefix' is set correctly",
    "3.1.25": "Ensure 'log_statement' is set correctly",
    "3.2": "Ensure the PostgreSQL Audit Extension (pgAudit) is enabled",
    "4.3": "Ensure excessive administrative privileges are revoked",
    "4.4": "Lock Out Accounts if Not Currently in Use",
    "4.5": "Ensure excessive function privileges are revoked",
    "4.6": "Ensure excessive DML privileges are revoked",
    "4.7": "Ensure Row Level Security (RLS) is configured correctly",
    "4.8": "Ensure the set_user extension is installed",
    "5.2": "Ensure PostgreSQL is Bound to an IP Address",
    "5.4": 'Ensure login via "host" TCP/IP Socket is configured correctly',
    "5.6": "Ensure password complexity is configured",
    "6.4": "Ensure 'SIGHUP' Runtime Parameters are Configured",
    "6.5": "Ensure 'Superuser' Runtime Parameters are Configured",
    "6.8": "Ensure TLS is enabled and configured correctly",
    "6.9": "Ensure the TLSv1.0 and TLSv1.1 Protocols are Disabled",
    "6.10": "Ensure Weak SSL/TLS Ciphers Are Disabled",
    "7.3": "Ensure base backups are configured and functional",
    "7.4": "Ensure WAL archiving is configured and functional",
    "8.3": "Ensure miscellaneous configuration settings are correct",
}


def known(number: str | None) -> bool:
    return number is None or number in RECOMMENDATIONS
