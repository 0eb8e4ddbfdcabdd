"""ops/migrate/recipes/steps: the names a recipe makes stay within PostgreSQL's limit and distinct, and
the definitions it rewrites change the column named, not a longer one."""

from __future__ import annotations

from mandala_db.ops.migrate import recipes


def test_generated_names_stay_within_postgresqls_limit_and_distinct() -> None:
    long_a, long_b = recipes.name("ck", "t" * 40, "a" * 30), recipes.name("ck", "t" * 40, "a" * 29 + "b")
    assert len(long_a) <= 63 and len(long_b) <= 63 and long_a != long_b
    assert recipes.concurrently("CREATE UNIQUE INDEX i ON t USING btree (a)").startswith(
        "CREATE UNIQUE INDEX CONCURRENTLY i"
    )
    assert recipes.rename_in("(a > 0) AND (ab > a)", "a", "b") == "(b > 0) AND (ab > b)"
