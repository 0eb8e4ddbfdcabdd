"""The privilege graph: every role, its attributes, and the memberships between them followed to the end.
A role is judged by every role it can become (SET ROLE) or whose privileges it inherits, so a login role
two memberships away from a superuser is as dangerous as the superuser; the evidence names the chain.
On PostgreSQL 16 a membership carries its own INHERIT and SET options; before, a member inherits when the
member role has INHERIT, and SET ROLE is always allowed."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg

# Predefined roles that reach beyond the database's own permission system: (severity, what they give).
DANGEROUS_PREDEFINED = {
    "pg_execute_server_program": ("high", "runs programs on the server as the operating-system user (COPY ... PROGRAM)"),
    "pg_write_server_files": ("high", "writes any file the server's operating-system user can write"),
    "pg_read_server_files": ("high", "reads any file the server's operating-system user can read"),
    "pg_read_all_data": ("high", "reads every table, view and sequence, past every grant and RLS policy"),
    "pg_write_all_data": ("high", "writes every table, past every grant"),
    "pg_signal_backend": ("medium", "cancels and terminates other sessions"),
    "pg_create_subscription": ("medium", "creates subscriptions that connect out to other servers"),
    "pg_checkpoint": ("low", "forces checkpoints"),
    "pg_read_all_settings": ("low", "reads every setting, file paths included"),
}  # fmt: skip


@dataclass(frozen=True)
class Role:
    name: str
    superuser: bool
    login: bool
    inherit: bool
    createrole: bool
    createdb: bool
    replication: bool
    bypassrls: bool
    valid_until: str | None
    connection_limit: int


@dataclass(frozen=True)
class Membership:
    group: str
    member: str
    admin: bool
    inherit: bool  # the member gets the group's privileges without SET ROLE
    set: bool  # the member may SET ROLE to the group (and use its attributes)


@dataclass
class Reach:
    """A role another can reach, and how: the chain of names from the start, and whether it can SET ROLE
    to it (attributes such as SUPERUSER only count then) or only inherits its privileges."""

    role: Role
    chain: list[str]
    can_set: bool
    inherits: bool

    @property
    def path(self) -> str:
        return " -> ".join(self.chain)


@dataclass
class PrivilegeGraph:
    roles: dict[str, Role] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    server_major: int = 16

    @classmethod
    def read(cls, conn: psycopg.Connection[Any]) -> PrivilegeGraph:
        major = int(conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0])  # type: ignore[index]
        graph = cls(server_major=major)
        for r in conn.execute(
            """SELECT rolname, rolsuper, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, rolreplication,
                      rolbypassrls, rolvaliduntil::text, rolconnlimit FROM pg_roles"""
        ).fetchall():
            graph.roles[r[0]] = Role(*r)
        options = "m.inherit_option, m.set_option" if major >= 16 else "mr.rolinherit, true"
        for r in conn.execute(
            f"""SELECT g.rolname, mr.rolname, m.admin_option, {options}
                FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles mr ON mr.oid = m.member"""
        ).fetchall():
            graph.memberships.append(Membership(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4])))
        return graph

    def reach(self, start: str) -> list[Reach]:
        """Every role `start` can become or inherits from, each by its shortest chain (start excluded)."""
        if start not in self.roles:
            return []
        by_member: dict[str, list[Membership]] = {}
        for m in self.memberships:
            by_member.setdefault(m.member, []).append(m)
        found: dict[str, Reach] = {}
        seen: set[tuple[str, bool, bool]] = set()
        queue: deque[tuple[str, list[str], bool, bool]] = deque([(start, [start], True, True)])
        while queue:
            name, chain, can_set, inherits = queue.popleft()
            for m in by_member.get(name, []):
                # SET ROLE along a chain needs SET on every step; inheriting needs INHERIT on every step.
                step_set, step_inherit = can_set and m.set, inherits and m.inherit
                state = (m.group, step_set, step_inherit)
                if (
                    m.group in chain
                    or m.group not in self.roles
                    or not (step_set or step_inherit)
                    or state in seen
                ):
                    continue
                seen.add(state)
                known = found.get(m.group)
                found[m.group] = (
                    Reach(known.role, known.chain, known.can_set or step_set, known.inherits or step_inherit)
                    if known is not None
                    else Reach(self.roles[m.group], [*chain, m.group], step_set, step_inherit)
                )
                queue.append((m.group, [*chain, m.group], step_set, step_inherit))
        return sorted(found.values(), key=lambda r: (len(r.chain), r.role.name))

    def members_of(self, group: str) -> set[str]:
        """Every role that is a member of `group`, directly or through others (for `+group` in pg_hba.conf,
        which matches any role that is a member, whatever the INHERIT and SET options)."""
        members: set[str] = set()
        frontier = [group]
        while frontier:
            name = frontier.pop()
            for m in self.memberships:
                if m.group == name and m.member not in members:
                    members.add(m.member)
                    frontier.append(m.member)
        return members

    def powers(self, start: str) -> list[tuple[str, str, str]]:
        """(severity, what it can do, how) for the role and every role it reaches: superuser, the
        predefined roles that reach the operating system or all data, CREATEROLE, BYPASSRLS, REPLICATION."""
        out: list[tuple[str, str, str]] = []
        me = self.roles.get(start)
        if me is None:
            return out
        hops = [Reach(me, [start], True, True), *self.reach(start)]
        for hop in hops:
            r, how = hop.role, (f"through {hop.path}" if len(hop.chain) > 1 else "itself")
            if r.superuser and hop.can_set:
                out.append(
                    (
                        "high",
                        f"becomes the superuser {r.name} (SET ROLE)" if r.name != start else "is a superuser",
                        how,
                    )
                )
            if r.name in DANGEROUS_PREDEFINED:
                severity, what = DANGEROUS_PREDEFINED[r.name]
                out.append((severity, f"is a member of {r.name}: {what}", how))
            if r.createrole and hop.can_set and not r.superuser:
                if self.server_major <= 15:
                    out.append(("high", "holds CREATEROLE, which on PostgreSQL 15 and older grants itself any "
                                "non-superuser role, pg_execute_server_program included, and so reaches the "
                                "operating system", how))  # fmt: skip
                else:
                    out.append(
                        ("medium", "holds CREATEROLE: creates roles and manages the ones it created", how)
                    )
            if r.bypassrls and hop.can_set and not r.superuser:
                out.append(("medium", "holds BYPASSRLS: row-level security does not apply to it", how))
            if r.replication and hop.can_set and not r.superuser:
                out.append(("medium", "holds REPLICATION: streams every row of the cluster", how))
        return out
