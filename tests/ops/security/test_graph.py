"""ops/security/graph: a role is judged by every role it can become or inherits from, each by its shortest
chain; SET ROLE needs SET on every step, inheriting needs INHERIT on every step (PostgreSQL 16's options)."""

from __future__ import annotations

from typing import Any

from mandala_db.ops.security.graph import Membership, PrivilegeGraph, Role


def role(name: str, **attrs: Any) -> Role:
    base: dict[str, Any] = dict(superuser=False, login=False, inherit=True, createrole=False, createdb=False,
                                replication=False, bypassrls=False, valid_until=None, connection_limit=-1)  # fmt: skip
    return Role(name, **{**base, **attrs})


def graph(*memberships: Membership, major: int = 16, **roles: Role) -> PrivilegeGraph:
    return PrivilegeGraph(dict(roles), list(memberships), major)


def member(group: str, of: str, *, inherit: bool = True, set: bool = True) -> Membership:
    return Membership(group, of, admin=False, inherit=inherit, set=set)


def test_a_login_two_memberships_from_a_superuser_becomes_it_and_the_chain_is_named() -> None:
    g = graph(member("ops", "app"), member("postgres", "ops"),
              app=role("app", login=True), ops=role("ops"), postgres=role("postgres", superuser=True))  # fmt: skip
    assert [(r.role.name, r.path) for r in g.reach("app")] == [
        ("ops", "app -> ops"),
        ("postgres", "app -> ops -> postgres"),
    ]
    assert (
        "high",
        "becomes the superuser postgres (SET ROLE)",
        "through app -> ops -> postgres",
    ) in g.powers("app")


def test_without_set_on_a_step_a_superuser_is_only_inherited_and_that_is_no_power() -> None:
    g = graph(member("postgres", "app", set=False),
              app=role("app", login=True), postgres=role("postgres", superuser=True))  # fmt: skip
    [reach] = g.reach("app")
    assert reach.inherits and not reach.can_set
    assert g.powers("app") == []


def test_a_membership_with_neither_option_reaches_nothing_and_a_cycle_ends() -> None:
    g = graph(member("a", "b", inherit=False, set=False), member("b", "c"), member("c", "b"),
              a=role("a"), b=role("b"), c=role("c"))  # fmt: skip
    assert [r.role.name for r in g.reach("b")] == ["c"]  # not a; and c -> b -> c stops at b
    assert g.reach("nobody") == []


def test_predefined_roles_and_attributes_are_powers_weighed_by_version() -> None:
    roles = dict(app=role("app", login=True, createrole=True), pg_read_all_data=role("pg_read_all_data"))
    on_16 = graph(member("pg_read_all_data", "app"), **roles).powers("app")
    assert [(s, what.split(":")[0]) for s, what, _ in on_16] == [
        ("medium", "holds CREATEROLE"),
        ("high", "is a member of pg_read_all_data"),
    ]
    on_15 = graph(member("pg_read_all_data", "app"), major=15, **roles).powers("app")
    assert on_15[0][0] == "high" and "PostgreSQL 15 and older" in on_15[0][1]


def test_members_of_follows_every_membership_whatever_its_options() -> None:
    g = graph(member("ops", "app", inherit=False, set=False), member("app", "worker"),
              ops=role("ops"), app=role("app"), worker=role("worker"))  # fmt: skip
    assert g.members_of("ops") == {"app", "worker"}
