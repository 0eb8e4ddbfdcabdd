"""A corpus of migrations against the populated goal-mandala database: dangerous ones, each with the rule
that must catch it, and safe ones that must stay silent. Built from PostgreSQL's lock documentation (13.3
Explicit Locking, ALTER TABLE's lock notes), squawk's rule list and strong_migrations' checks, in our own
words. `tests/ops/migrate/lint/test_lint_corpus.py` holds the walk to it; `bench/lint_corpus.py` runs it
through the real `migrate plan --json` and `mandala-db lint` and prints recall and precision."""

from __future__ import annotations

from dataclasses import dataclass

# Applied to the populated database before the corpus is judged: a check made NOT VALID in an earlier
# release, which the PostgreSQL 12+ way to SET NOT NULL validates first; a materialized view to refresh.
SETUP = [
    "ALTER TABLE goals ADD CONSTRAINT ck_goals_description_nn CHECK (description IS NOT NULL) NOT VALID",
    "CREATE MATERIALIZED VIEW task_counts AS SELECT action_id, count(*) AS n FROM tasks GROUP BY 1",
    "CREATE UNIQUE INDEX uq_task_counts_action_id ON task_counts (action_id)",
]


@dataclass(frozen=True)
class Migration:
    name: str
    sql: list[str]
    rule: str | None  # the rule that must catch it; None: safe, nothing may fire
    source: str  # where the danger (or the safe form) is documented


DANGEROUS = [
    Migration("drop-table", ["DROP TABLE task_notes"], "drop-table", "squawk ban-drop-table"),
    Migration("drop-table-cascade", ["DROP TABLE goals CASCADE"], "drop-table", "squawk ban-drop-table"),
    Migration(
        "drop-column", ["ALTER TABLE tasks DROP COLUMN description"], "drop-column", "squawk ban-drop-column"
    ),
    Migration(
        "drop-column-if-exists",
        ["ALTER TABLE goals DROP COLUMN IF EXISTS background"],
        "drop-column",
        "strong_migrations removing a column",
    ),
    Migration(
        "not-null-no-default",
        ["ALTER TABLE tasks ADD COLUMN priority int NOT NULL"],
        "not-null-without-default",
        "squawk adding-required-field",
    ),
    Migration(
        "volatile-uuid",
        ["ALTER TABLE tasks ADD COLUMN token uuid DEFAULT gen_random_uuid()"],
        "volatile-default",
        "strong_migrations volatile default",
    ),
    Migration(
        "volatile-clock",
        ["ALTER TABLE goals ADD COLUMN seen timestamptz DEFAULT clock_timestamp()"],
        "volatile-default",
        "PostgreSQL ALTER TABLE notes",
    ),
    Migration(
        "volatile-random-nested",
        ["ALTER TABLE tasks ADD COLUMN salt text DEFAULT md5(random()::text)"],
        "volatile-default",
        "PostgreSQL ALTER TABLE notes",
    ),
    Migration(
        "serial",
        ["ALTER TABLE tasks ADD COLUMN seq bigserial"],
        "volatile-default",
        "squawk adding-serial-primary-key-field",
    ),
    Migration(
        "identity",
        ["ALTER TABLE goals ADD COLUMN n int GENERATED ALWAYS AS IDENTITY"],
        "volatile-default",
        "strong_migrations auto-increment column",
    ),
    Migration(
        "stored-generated",
        ["ALTER TABLE tasks ADD COLUMN t2 text GENERATED ALWAYS AS (upper(title)) STORED"],
        "volatile-default",
        "strong_migrations stored generated column",
    ),
    Migration(
        "set-not-null",
        ["ALTER TABLE tasks ALTER COLUMN description SET NOT NULL"],
        "set-not-null",
        "strong_migrations setting NOT NULL",
    ),
    Migration(
        "pk-using-index-nullable",
        [
            "ALTER TABLE task_notes ADD COLUMN seq int",
            "CREATE UNIQUE INDEX CONCURRENTLY uq_task_notes_seq ON task_notes (seq)",
            "ALTER TABLE task_notes DROP CONSTRAINT pk_task_notes",
            "ALTER TABLE task_notes ADD CONSTRAINT pk2 PRIMARY KEY USING INDEX uq_task_notes_seq",
        ],
        "set-not-null",
        "PostgreSQL ALTER TABLE ADD table_constraint_using_index",
    ),
    Migration(
        "int-to-bigint",
        ["ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE bigint"],
        "type-change-rewrite",
        "squawk changing-column-type",
    ),
    Migration(
        "varchar-shrink",
        ["ALTER TABLE goals ALTER COLUMN title TYPE varchar(50)"],
        "type-change-rewrite",
        "squawk changing-column-type",
    ),
    Migration(
        "type-using",
        ["ALTER TABLE goals ALTER COLUMN title TYPE varchar(400) USING trim(title)"],
        "type-change-rewrite",
        "PostgreSQL ALTER TABLE SET DATA TYPE",
    ),
    Migration(
        "text-to-varchar",
        ["ALTER TABLE tasks ALTER COLUMN description TYPE varchar(500)"],
        "type-change-rewrite",
        "squawk changing-column-type",
    ),
    Migration(
        "timestamptz-to-timestamp",
        ["ALTER TABLE tasks ALTER COLUMN created_at TYPE timestamp"],
        "type-change-rewrite",
        "PostgreSQL ALTER TABLE SET DATA TYPE",
    ),
    Migration(
        "uuid-to-text",
        ["ALTER TABLE task_notes ALTER COLUMN user_id TYPE text"],
        "type-change-rewrite",
        "squawk changing-column-type",
    ),
    Migration(
        "index",
        ["CREATE INDEX ix_tasks_title ON tasks (title)"],
        "non-concurrent-index",
        "squawk require-concurrent-index-creation",
    ),
    Migration(
        "unique-index",
        ["CREATE UNIQUE INDEX uq_goals_title ON goals (user_id, title)"],
        "non-concurrent-index",
        "squawk require-concurrent-index-creation",
    ),
    Migration(
        "partial-index",
        ["CREATE INDEX ix_open ON tasks (action_id) WHERE completed_at IS NULL"],
        "non-concurrent-index",
        "strong_migrations adding an index",
    ),
    Migration(
        "fk-validated",
        ["ALTER TABLE task_notes ADD CONSTRAINT fk_notes_user FOREIGN KEY (user_id) REFERENCES users (id)"],
        "constraint-not-valid",
        "squawk adding-foreign-key-constraint",
    ),
    Migration(
        "check-validated",
        ["ALTER TABLE tasks ADD CONSTRAINT ck_time CHECK (estimated_minutes >= 0)"],
        "constraint-not-valid",
        "squawk constraint-missing-not-valid",
    ),
    Migration(
        "domain-constraint",
        [
            "CREATE DOMAIN positive_int AS int",
            "ALTER DOMAIN positive_int ADD CONSTRAINT positive CHECK (VALUE > 0)",
        ],
        "constraint-not-valid",
        "squawk ban-alter-domain-with-add-constraint",
    ),
    Migration(
        "rename-column", ["ALTER TABLE tasks RENAME COLUMN title TO name"], "rename", "squawk renaming-column"
    ),
    Migration("rename-table", ["ALTER TABLE task_notes RENAME TO notes"], "rename", "squawk renaming-table"),
    Migration(
        "enum-recreate",
        [
            "ALTER TYPE goal_status RENAME TO goal_status_old",
            "CREATE TYPE goal_status AS ENUM ('ACTIVE', 'COMPLETED')",
            "ALTER TABLE goals ALTER COLUMN status DROP DEFAULT",
            "ALTER TABLE goals ALTER COLUMN status TYPE goal_status USING status::text::goal_status",
            "DROP TYPE goal_status_old",
        ],
        "enum-label-removed",
        "PostgreSQL ALTER TYPE (labels cannot be removed)",
    ),
    Migration(
        "drop-index", ["DROP INDEX ix_tasks_status"], "drop-index", "squawk require-concurrent-index-deletion"
    ),
    Migration(
        "drop-index-if-exists",
        ["DROP INDEX IF EXISTS ix_goals_user_id_status"],
        "drop-index",
        "squawk require-concurrent-index-deletion",
    ),
    Migration("reindex-index", ["REINDEX INDEX ix_tasks_status"], "reindex", "PostgreSQL REINDEX notes"),
    Migration("reindex-table", ["REINDEX TABLE tasks"], "reindex", "PostgreSQL REINDEX notes"),
    Migration(
        "add-unique",
        ["ALTER TABLE goals ADD CONSTRAINT uq_goals_user_title UNIQUE (user_id, title)"],
        "constraint-builds-index",
        "squawk disallowed-unique-constraint",
    ),
    Migration(
        "add-pk",
        [
            "ALTER TABLE task_notes DROP CONSTRAINT pk_task_notes",
            "ALTER TABLE task_notes ADD PRIMARY KEY (id)",
        ],
        "constraint-builds-index",
        "squawk adding-primary-key-constraint",
    ),
    Migration(
        "add-exclusion",
        ["ALTER TABLE task_reminders ADD CONSTRAINT ex_one EXCLUDE USING btree (task_id WITH =)"],
        "constraint-builds-index",
        "strong_migrations exclusion constraint",
    ),
    Migration(
        "add-column-references",
        ["ALTER TABLE tasks ADD COLUMN owner_id uuid REFERENCES users (id)"],
        "add-column-constraint",
        "strong_migrations adding a reference",
    ),
    Migration(
        "add-column-unique",
        ["ALTER TABLE goals ADD COLUMN slug text UNIQUE"],
        "add-column-constraint",
        "squawk disallowed-unique-constraint",
    ),
    Migration(
        "add-column-check",
        ["ALTER TABLE tasks ADD COLUMN weight int CHECK (weight > 0)"],
        "add-column-constraint",
        "strong_migrations check constraint",
    ),
    Migration(
        "add-column-pk",
        [
            "ALTER TABLE task_notes DROP CONSTRAINT pk_task_notes",
            "ALTER TABLE task_notes ADD COLUMN nid int PRIMARY KEY DEFAULT 1",
        ],
        "add-column-constraint",
        "squawk adding-primary-key-constraint",
    ),
    Migration("truncate", ["TRUNCATE task_notes"], "truncate", "squawk ban-truncate-cascade"),
    Migration("truncate-cascade", ["TRUNCATE goals CASCADE"], "truncate", "squawk ban-truncate-cascade"),
    Migration("delete-all", ["DELETE FROM task_reminders"], "delete-without-where", "data loss"),
    Migration(
        "update-all",
        ["UPDATE tasks SET description = ''"],
        "unbatched-write",
        "strong_migrations backfilling data",
    ),
    Migration(
        "update-unbounded-where",
        ["UPDATE tasks SET description = '' WHERE description IS NULL"],
        "unbatched-write",
        "strong_migrations backfilling data",
    ),
    Migration(
        "update-one-sided",
        ["UPDATE goals SET progress = 0 WHERE progress > 0"],
        "unbatched-write",
        "strong_migrations backfilling data",
    ),
    Migration(
        "delete-unbounded",
        ["DELETE FROM task_reminders WHERE status = 'SENT'"],
        "unbatched-write",
        "bulk delete in one statement",
    ),
    Migration(
        "backfill-same-tx",
        [
            "ALTER TABLE tasks ADD COLUMN done boolean",
            "UPDATE tasks SET done = false WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT 1000)",
        ],
        "backfill-in-transaction",
        "strong_migrations backfilling data",
    ),
    Migration("cluster", ["CLUSTER tasks USING ix_tasks_status"], "cluster", "PostgreSQL CLUSTER notes"),
    Migration("vacuum-full", ["VACUUM FULL tasks"], "vacuum-full", "PostgreSQL VACUUM FULL"),
    Migration(
        "set-tablespace",
        ["ALTER TABLE tasks SET TABLESPACE pg_default"],
        "set-tablespace",
        "PostgreSQL ALTER TABLE SET TABLESPACE",
    ),
    Migration(
        "set-unlogged",
        ["ALTER TABLE progress_history SET UNLOGGED"],
        "set-logged",
        "PostgreSQL ALTER TABLE SET UNLOGGED",
    ),
    Migration(
        "lock-access-exclusive", ["LOCK TABLE tasks"], "lock-table", "PostgreSQL 13.3 Explicit Locking"
    ),
    Migration(
        "lock-share", ["LOCK TABLE goals IN SHARE MODE"], "lock-table", "PostgreSQL 13.3 Explicit Locking"
    ),
    Migration(
        "lock-exclusive",
        ["LOCK TABLE actions IN EXCLUSIVE MODE"],
        "lock-table",
        "PostgreSQL 13.3 Explicit Locking",
    ),
    Migration(
        "validate-same-tx",
        [
            "ALTER TABLE tasks ADD CONSTRAINT ck_time CHECK (estimated_minutes >= 0) NOT VALID",
            "ALTER TABLE tasks VALIDATE CONSTRAINT ck_time",
        ],
        "validate-in-transaction",
        "squawk constraint-missing-not-valid",
    ),
    Migration(
        "validate-fk-same-tx",
        [
            "ALTER TABLE task_notes ADD CONSTRAINT fk_notes_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
            "ALTER TABLE task_notes VALIDATE CONSTRAINT fk_notes_user",
        ],
        "validate-in-transaction",
        "squawk adding-foreign-key-constraint",
    ),
    Migration(
        "drop-type-cascade",
        ["DROP TYPE task_type CASCADE", "CREATE TYPE task_type AS ENUM ('EXECUTION', 'HABIT')"],
        "drop-cascade",
        "PostgreSQL DROP TYPE CASCADE",
    ),
    Migration(
        "drop-schema-cascade",
        ["DROP SCHEMA IF EXISTS reporting CASCADE"],
        "drop-cascade",
        "squawk ban-drop-database",
    ),
    Migration(
        "rename-then-index",
        [
            "ALTER TABLE task_notes RENAME TO task_comments",
            "CREATE INDEX ix_task_comments_user ON task_comments (user_id)",
        ],
        "non-concurrent-index",
        "a renamed table keeps its rows",
    ),
    Migration(
        "add-existing-column",
        ["ALTER TABLE tasks ADD COLUMN title text"],
        "fails-at-deploy",
        "fails: column exists",
    ),
    Migration(
        "drop-missing-column",
        ["ALTER TABLE goals DROP COLUMN colour"],
        "fails-at-deploy",
        "fails: no such column",
    ),
    Migration(
        "drop-referenced-table", ["DROP TABLE users"], "fails-at-deploy", "fails: referenced by foreign keys"
    ),
    Migration(
        "add-existing-label",
        ["ALTER TYPE task_status ADD VALUE 'COMPLETED'"],
        "fails-at-deploy",
        "fails: label exists",
    ),
    Migration("drop-used-type", ["DROP TYPE goal_status"], "fails-at-deploy", "fails: columns use it"),
    Migration(
        "validate-then-set-not-null-same-tx",
        [
            "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_description_nn CHECK (description IS NOT NULL) NOT VALID",
            "ALTER TABLE tasks VALIDATE CONSTRAINT ck_tasks_description_nn",
            "ALTER TABLE tasks ALTER COLUMN description SET NOT NULL",
        ],
        "validate-in-transaction",
        "the scan runs under the ADD CONSTRAINT's lock",
    ),
    Migration(
        "enum-to-text",
        ["ALTER TABLE tasks ALTER COLUMN status TYPE text"],
        "type-change-rewrite",
        "squawk changing-column-type",
    ),
    Migration(
        "update-join",
        ["UPDATE tasks SET description = actions.title FROM actions WHERE tasks.action_id = actions.id"],
        "unbatched-write",
        "strong_migrations backfilling data",
    ),
    Migration("cluster-all", ["CLUSTER"], "cluster", "PostgreSQL CLUSTER notes"),
    Migration(
        "refresh-matview",
        ["REFRESH MATERIALIZED VIEW task_counts"],
        "refresh-materialized-view",
        "PostgreSQL REFRESH MATERIALIZED VIEW",
    ),
]

SAFE = [
    Migration(
        "constant-default",
        ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL DEFAULT 3"],
        None,
        "PostgreSQL 11+ fast default",
    ),
    Migration(
        "now-default",
        ["ALTER TABLE goals ADD COLUMN seen_at timestamptz DEFAULT now()"],
        None,
        "now() is stable",
    ),
    Migration("nullable-column", ["ALTER TABLE tasks ADD COLUMN note text"], None, "strong_migrations safe"),
    Migration(
        "varchar-growth", ["ALTER TABLE goals ALTER COLUMN title TYPE varchar(300)"], None, "binary coercible"
    ),
    Migration(
        "varchar-to-text", ["ALTER TABLE tasks ALTER COLUMN title TYPE text"], None, "binary coercible"
    ),
    Migration(
        "varchar-unbounded", ["ALTER TABLE users ALTER COLUMN name TYPE varchar"], None, "binary coercible"
    ),
    Migration(
        "rename-value",
        ["ALTER TYPE task_status RENAME VALUE 'SKIPPED' TO 'PASSED'"],
        None,
        "rows keep the label",
    ),
    Migration(
        "add-value", ["ALTER TYPE task_status ADD VALUE 'ARCHIVED'"], None, "PostgreSQL ALTER TYPE ADD VALUE"
    ),
    Migration("drop-not-null", ["ALTER TABLE tasks ALTER COLUMN title DROP NOT NULL"], None, "metadata only"),
    Migration(
        "set-default",
        ["ALTER TABLE tasks ALTER COLUMN estimated_minutes SET DEFAULT 30"],
        None,
        "metadata only",
    ),
    Migration(
        "drop-default", ["ALTER TABLE goals ALTER COLUMN progress DROP DEFAULT"], None, "metadata only"
    ),
    Migration(
        "index-concurrently",
        ["CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)"],
        None,
        "squawk safe form",
    ),
    Migration(
        "drop-index-concurrently", ["DROP INDEX CONCURRENTLY ix_tasks_status"], None, "squawk safe form"
    ),
    Migration("reindex-concurrently", ["REINDEX INDEX CONCURRENTLY ix_tasks_status"], None, "PostgreSQL 12+"),
    Migration(
        "fk-not-valid",
        [
            "ALTER TABLE task_notes ADD CONSTRAINT fk_notes_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"
        ],
        None,
        "squawk safe form",
    ),
    Migration(
        "check-not-valid",
        ["ALTER TABLE tasks ADD CONSTRAINT ck_time CHECK (estimated_minutes >= 0) NOT VALID"],
        None,
        "squawk safe form",
    ),
    Migration(
        "validate-alone",
        ["ALTER TABLE goals VALIDATE CONSTRAINT ck_goals_progress_range"],
        None,
        "SHARE UPDATE EXCLUSIVE",
    ),
    Migration(
        "not-null-pg12",
        [
            "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_description_nn CHECK (description IS NOT NULL) NOT VALID",
        ],
        None,
        "PostgreSQL 12+ SET NOT NULL trusts a valid check (step 1)",
    ),
    Migration(
        "unique-using-index",
        [
            "CREATE UNIQUE INDEX CONCURRENTLY uq_goals_user_title ON goals (user_id, title)",
            "ALTER TABLE goals ADD CONSTRAINT uq_goals_user_title UNIQUE USING INDEX uq_goals_user_title",
        ],
        None,
        "squawk disallowed-unique-constraint safe form",
    ),
    Migration(
        "batched-between",
        [
            "UPDATE tasks SET description = '' WHERE id BETWEEN '00000000-0000-0000-0000-000000000000' AND '0fffffff-ffff-ffff-ffff-ffffffffffff'"
        ],
        None,
        "bounded batch",
    ),
    Migration(
        "batched-limit",
        [
            "UPDATE tasks SET description = '' WHERE id IN (SELECT id FROM tasks WHERE description IS NULL ORDER BY id LIMIT 500)"
        ],
        None,
        "bounded batch",
    ),
    Migration(
        "batched-range",
        ["UPDATE goals SET progress = 0 WHERE progress >= 0 AND progress < 10"],
        None,
        "bounded batch",
    ),
    Migration(
        "update-by-key",
        ["UPDATE users SET name = 'x' WHERE id = '00000000-0000-0000-0000-000000000001'"],
        None,
        "one row",
    ),
    Migration(
        "delete-by-key",
        ["DELETE FROM task_notes WHERE id IN ('00000000-0000-0000-0000-000000000001')"],
        None,
        "one row",
    ),
    Migration(
        "cte-batch",
        [
            "WITH batch AS (SELECT id FROM tasks WHERE description IS NULL LIMIT 100) UPDATE tasks SET description = '' WHERE id IN (SELECT id FROM batch)"
        ],
        None,
        "bounded batch",
    ),
    Migration(
        "new-table",
        [
            "CREATE TABLE labels (id uuid PRIMARY KEY, name text NOT NULL UNIQUE)",
            "CREATE INDEX ix_labels_name ON labels (name)",
        ],
        None,
        "created empty",
    ),
    Migration(
        "new-table-everything",
        [
            "CREATE TABLE tags (id int PRIMARY KEY, name varchar(20), task_id uuid)",
            "ALTER TABLE tags ADD COLUMN color text NOT NULL",
            "ALTER TABLE tags ALTER COLUMN name TYPE varchar(10)",
            "ALTER TABLE tags ADD CONSTRAINT fk_tags_task FOREIGN KEY (task_id) REFERENCES tasks (id)",
            "ALTER TABLE tags ADD CONSTRAINT uq_tags_name UNIQUE (name)",
            "ALTER TABLE tags ALTER COLUMN name SET NOT NULL",
            "UPDATE tags SET color = 'red'",
            "DELETE FROM tags",
            "ALTER TABLE tags RENAME COLUMN color TO colour",
            "DROP TABLE tags",
        ],
        None,
        "created empty by the same plan",
    ),
    Migration(
        "new-table-fk",
        ["CREATE TABLE task_links (id uuid PRIMARY KEY, task_id uuid REFERENCES tasks (id))"],
        None,
        "SHARE ROW EXCLUSIVE briefly",
    ),
    Migration(
        "numeric-precision",
        [
            "ALTER TABLE tasks ADD COLUMN cost numeric(10,2)",
            "ALTER TABLE tasks ALTER COLUMN cost TYPE numeric(12,2)",
        ],
        None,
        "binary coercible",
    ),
    Migration("comment", ["COMMENT ON COLUMN tasks.title IS 'what to do'"], None, "SHARE UPDATE EXCLUSIVE"),
    Migration(
        "set-statistics",
        ["ALTER TABLE tasks ALTER COLUMN status SET STATISTICS 500"],
        None,
        "SHARE UPDATE EXCLUSIVE",
    ),
    Migration("analyze", ["ANALYZE tasks"], None, "SHARE UPDATE EXCLUSIVE"),
    Migration("vacuum", ["VACUUM tasks"], None, "SHARE UPDATE EXCLUSIVE"),
    Migration(
        "trigger",
        [
            "CREATE TRIGGER trg_noop BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()"
        ],
        None,
        "SHARE ROW EXCLUSIVE, brief",
    ),
    Migration(
        "view",
        ["CREATE VIEW open_tasks AS SELECT * FROM tasks WHERE completed_at IS NULL"],
        None,
        "ACCESS SHARE",
    ),
    Migration(
        "drop-constraint",
        ["ALTER TABLE goals DROP CONSTRAINT ck_goals_progress_range"],
        None,
        "metadata only",
    ),
    Migration(
        "lock-row-exclusive", ["LOCK TABLE tasks IN ROW EXCLUSIVE MODE"], None, "does not block writers"
    ),
    Migration(
        "insert-rows",
        ["INSERT INTO users (id, email, name) VALUES (gen_random_uuid(), 'new@example.com', 'New')"],
        None,
        "a row",
    ),
    Migration(
        "refresh-concurrently-created",
        [
            "CREATE MATERIALIZED VIEW action_counts AS SELECT action_id, count(*) AS n FROM tasks GROUP BY 1",
            "CREATE UNIQUE INDEX ON action_counts (action_id)",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY action_counts",
        ],
        None,
        "EXCLUSIVE: reads go on",
    ),
    Migration(
        "drop-empty-created-index",
        [
            "CREATE TABLE drafts (id int)",
            "CREATE INDEX ix_drafts_id ON drafts (id)",
            "DROP INDEX ix_drafts_id",
        ],
        None,
        "created empty by the same plan",
    ),
    Migration(
        "identity-on-new-table",
        ["CREATE TABLE seqs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)"],
        None,
        "created empty",
    ),
    Migration(
        "not-null-pg12-rest",
        [
            "ALTER TABLE goals VALIDATE CONSTRAINT ck_goals_description_nn",
            "ALTER TABLE goals ALTER COLUMN description SET NOT NULL",
            "ALTER TABLE goals DROP CONSTRAINT ck_goals_description_nn",
        ],
        None,
        "PostgreSQL 12+ SET NOT NULL trusts a valid check (the issue's false alarm)",
    ),
    Migration(
        "update-any-keys",
        ["UPDATE tasks SET description = '' WHERE id = ANY('{00000000-0000-0000-0000-000000000001}')"],
        None,
        "listed rows",
    ),
    Migration(
        "volatile-set-default",
        ["ALTER TABLE tasks ALTER COLUMN description SET DEFAULT md5(random()::text)"],
        None,
        "future rows only",
    ),
    Migration(
        "add-column-if-not-exists",
        ["ALTER TABLE tasks ADD COLUMN IF NOT EXISTS title text"],
        None,
        "a no-op when it exists",
    ),
    Migration(
        "drop-missing-if-exists",
        ["DROP TABLE IF EXISTS no_such_table", "DROP INDEX CONCURRENTLY IF EXISTS no_such_index"],
        None,
        "a no-op",
    ),
    Migration("lock-access-share", ["LOCK TABLE goals IN ACCESS SHARE MODE"], None, "does not block writers"),
    Migration(
        "create-index-concurrently-unique",
        ["CREATE UNIQUE INDEX CONCURRENTLY uq_users_email2 ON users (email)"],
        None,
        "squawk safe form",
    ),
]

CORPUS = DANGEROUS + SAFE
