"""ops/security/recommend.py: every line recommend prints as SQL runs, and fixes what it claims."""

from __future__ import annotations

import json

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from ops.security.securitykit import check, failing


def test_every_line_recommend_prints_as_sql_runs_and_fixes_what_it_claims(
    own_cluster: tuple[DatabaseURL, str, str],
) -> None:
    db_url, role, group = own_cluster
    with connect_to(db_url) as admin:
        admin.execute(f"ALTER ROLE {role} CREATEDB")  # role.attributes, on this role
        admin.execute(f"GRANT {group} TO {role}; GRANT pg_read_all_data TO {group}")  # role.reachable
        admin.execute("CREATE TABLE public.rec_x (n int); GRANT DELETE ON public.rec_x TO PUBLIC")
        admin.execute("CREATE FUNCTION public.rec_f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        admin.execute("CREATE TABLE public.rec_p (n int); CREATE POLICY p ON public.rec_p USING (n > 0)")
        admin.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    advice = json.loads(run_cli("--json", "security", "recommend", url=db_url).stdout)
    sql_sections = [s for s in advice["sections"] if "(SQL" in s["title"]]
    # Roles belong to the whole server: run the fixes of what this test planted, never a fix of another
    # test's role while that test runs (the role SQL's own section is test_roles.py's).
    mine = (f"role {role}", "public.rec_x", "rec_f()", "rec_p", "schema public")
    lines = [
        line for s in sql_sections if s["title"].startswith("this database") for line in s["lines"]
        if any(fix.endswith(mine) for fix in line["fixes"])
    ]  # fmt: skip
    claimed = {fix for line in lines for fix in line["fixes"] if fix.endswith(mine)}
    for wanted in (f"role.attributes on role {role}", f"role.reachable on role {role}",
                   "object.public-grants on table public.rec_x", "function.search-path on function rec_f()",
                   "table.rls on table rec_p", "schema.public-create on schema public"):  # fmt: skip
        assert wanted in claimed, (wanted, sorted(claimed))
    with connect_to(db_url) as admin:  # every line, in order, each an error if it does not run
        for line in lines:
            admin.execute(line["text"])
    after = check(db_url)
    still = [fix for fix in claimed if failing(after, fix.split(" on ", 1)[0], fix.split(" on ", 1)[1])]
    assert still == [], still
