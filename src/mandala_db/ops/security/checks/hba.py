"""The client authentication rules (pg_hba.conf) as the server reads them."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from mandala_db.ops.security.checks.registry import Check, check
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import FAIL, Finding


def _hba_rules(
    c: Check, facts: Facts, judge: Callable[[dict[str, Any]], tuple[str, str] | None]
) -> list[Finding]:
    rules, why = facts.hba
    if rules is None:
        return c.skipped(why)
    found = []
    for rule in rules:
        verdict = judge(rule)
        if verdict is not None:
            severity, text = verdict
            who = f"{rule['type']} {','.join(rule['database'] or [])} {','.join(rule['user_name'] or [])}"
            where = (
                f" {rule['address']}{'/' + rule['netmask'] if rule['netmask'] else ''}"
                if rule["address"]
                else ""
            )
            found.append(
                c.finding(FAIL, f"line {rule['line']}: {who}{where} {rule['auth_method']}: {text}",
                          object=f"pg_hba.conf line {rule['line']}", severity=severity)
            )  # fmt: skip
    return found or c.passed(f"{len(rules)} rule(s) checked")


def _remote(rule: dict[str, Any]) -> bool:
    address = rule.get("address") or ""
    if rule["type"] == "local":
        return False
    return address not in ("127.0.0.1", "::1", "localhost", "samehost")


# A range wider than this is "open to a crowd": a /16 of IPv4 (65,536 addresses), a /112 of IPv6.
WIDE = 65_536


def _addresses(rule: dict[str, Any]) -> int | None:
    """How many addresses the rule's range holds; None for a host name or a keyword."""
    address, netmask = rule.get("address") or "", rule.get("netmask") or ""
    try:
        network = ipaddress.ip_network(f"{address}/{netmask}" if netmask else address, strict=False)
    except ValueError:
        return None
    return int(network.num_addresses)


def _users(rule: dict[str, Any], facts: Facts) -> tuple[set[str], list[str]]:
    """The roles a rule's user column matches (`+group` resolved through every membership) and the
    entries that cannot be resolved here (`@file`)."""
    names: set[str] = set()
    unresolved: list[str] = []
    for entry in rule["user_name"] or []:
        if entry.startswith("+"):
            group = entry[1:]
            names |= {group} | facts.graph.members_of(group)
        elif entry.startswith("@"):
            unresolved.append(entry)
        else:
            names.add(entry)
    return names, unresolved


@check(
    "hba.auth-method",
    "pg_hba.conf authenticates with scram-sha-256 (or certificates)",
    "high",
    "replace trust, password and md5 with scram-sha-256 (or cert); reload with SELECT pg_reload_conf()",
    cis="5.4",
)
def _hba_auth(c: Check, facts: Facts) -> list[Finding]:
    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        method = rule["auth_method"]
        if method == "trust":
            return (
                "high" if _remote(rule) else "medium",
                "anyone who can reach it logs in as any user, no password",
            )
        if method == "password":
            return ("high", "the password is sent in clear")
        if method == "md5":
            return ("medium", "md5 is replayable; use scram-sha-256")
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.tls-only",
    "TCP rules accept only TLS (hostssl)",
    "high",
    "change host to hostssl for every rule that reaches beyond this machine",
    cis="6.8",
)
def _hba_tls(c: Check, facts: Facts) -> list[Finding]:
    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        if rule["type"] in ("host", "hostnossl") and rule["auth_method"] != "reject":
            return ("high" if _remote(rule) else "low", "accepts connections without TLS")
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.scope",
    "rules name their databases, users and a narrow address range",
    "medium",
    "name the database and role on each rule, and the smallest network that needs it (never 0.0.0.0/0)",
    cis="5.4",
)
def _hba_scope(c: Check, facts: Facts) -> list[Finding]:
    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        if rule["type"] == "local" or rule["auth_method"] == "reject":
            return None
        if rule["address"] == "all" or rule["netmask"] in ("0.0.0.0", "::"):
            return ("high", "open to every address")
        count = _addresses(rule)
        if count is not None and count > WIDE:
            return ("medium", f"open to {count:,} addresses (wider than a /16)")
        if rule["address"] == "samenet":
            return ("medium", "open to every machine on any subnet the server is on (samenet)")
        databases, users = rule["database"] or [], rule["user_name"] or []
        if databases == ["all"] and users == ["all"] and _remote(rule):
            return ("low", "any user may reach any database from there")
        if databases == ["all"] and users != ["all"] and _remote(rule):
            return (
                "low",
                f"{', '.join(users)} may reach every database from there, not only the one it needs",
            )
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.remote-superuser",
    "superusers cannot log in from other machines",
    "medium",
    "limit superuser rules to local (peer) connections; give remote administrators predefined roles instead",
    cis="5.4",
)
def _hba_superuser(c: Check, facts: Facts) -> list[Finding]:
    supers = {r.name for r in facts.graph.roles.values() if r.superuser}

    def judge(rule: dict[str, Any]) -> tuple[str, str] | None:
        if not _remote(rule) or rule["auth_method"] == "reject":
            return None
        users, unresolved = _users(rule, facts)
        if "all" in users:
            return ("high", "a superuser may log in over the network (the rule matches every role)")
        reached = sorted(users & supers)
        if reached:
            via = [e for e in rule["user_name"] or [] if e.startswith("+")]
            through = f" through {', '.join(via)}" if via else ""
            return ("high", f"the superuser {', '.join(reached)} may log in over the network{through}")
        if unresolved:
            return (
                "medium",
                f"{', '.join(unresolved)} names roles in a file this check cannot read: a superuser may be among them",
            )
        return None

    return _hba_rules(c, facts, judge)


@check(
    "hba.reload-pending",
    "the rules the server enforces are the rules in pg_hba.conf",
    "high",
    "review pg_hba.conf, then SELECT pg_reload_conf(); until then the checks of the file say nothing of what is enforced",
    cis="6.4",
)
def _hba_reload(c: Check, facts: Facts) -> list[Finding]:
    dates, why = facts.hba_reload
    if dates is None:
        return c.skipped(why)
    changed, loaded = dates
    if changed > loaded:
        return c.failed(
            f"pg_hba.conf changed at {changed:%Y-%m-%d %H:%M:%S%z}, after the server loaded it at "
            f"{loaded:%Y-%m-%d %H:%M:%S%z}: the rules in force are an older version, which no view shows",
            object="pg_hba.conf",
        )
    return c.passed(f"pg_hba.conf unchanged since the server loaded it at {loaded:%Y-%m-%d %H:%M:%S%z}")


@check(
    "hba.errors",
    "every line of pg_hba.conf is valid",
    "medium",
    "fix the line (the server refuses to reload a file with an error, and keeps the rules it had)",
    cis="6.4",
)
def _hba_errors(c: Check, facts: Facts) -> list[Finding]:
    rules, why = facts.hba
    if rules is None:
        return c.skipped(why)
    bad = [r for r in rules if r["error"]]
    if not bad:
        return c.passed(f"{len(rules)} line(s), none with an error")
    return [
        c.finding(FAIL, f"line {r['line']}: {r['error']}", object=f"pg_hba.conf line {r['line']}")
        for r in bad
    ]
