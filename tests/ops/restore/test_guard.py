"""The guard between a backup and psql reads a script the way psql's lexer does: meta-commands are found
wherever psql would run them and nowhere else (quotes, dollar quotes, comments, COPY data)."""

from __future__ import annotations

import random

import pytest

from mandala_db.ops.restore import ScriptGuard, ScriptRefused


def read(script: bytes, chunk: int | None = None) -> None:
    guard = ScriptGuard("backup.sql")
    if chunk is None:
        guard.feed(script)
    else:  # the same script in pieces, cut anywhere, as a pipe delivers it
        for i in range(0, len(script), chunk):
            guard.feed(script[i : i + chunk])
    guard.close()


@pytest.mark.parametrize(
    ("script", "named"),
    [
        (b"\\! touch PWNED\n", "\\!"),
        (b"SELECT 1; \\! touch PWNED\n", "\\!"),
        (b"SELECT 1 \\gexec\n", "\\gexec"),
        (b"  \\o /tmp/out\n", "\\o"),
        (b"\\copy users to '/tmp/x'\n", "\\copy"),
        (b"\\connect other\n", "\\connect"),
        (b"SELECT $$ body $$ \\! x\n", "\\!"),
        (b"SELECT 'string' \\! x\n", "\\!"),
        (b"/* comment */ \\! x\n", "\\!"),
        (b"COPY public.t (a) FROM stdin;\n1\n\\.\n\\! after the data\n", "\\!"),
        (b"\\restrict abc\n\\! inside the restricted part\n", "\\!"),
        (b"\\restrict abc \\! x\n", "\\restrict"),
        (b"COPY public.t (a) FROM stdin; \\! x\n", "\\!"),
        (b"COPY public.t TO PROGRAM 'id';\n", "a COPY other than"),
        (b"COPY public.t FROM '/etc/passwd';\n", "a COPY other than"),
        (b"SET standard_conforming_strings = off;\n", "standard_conforming_strings"),
        (b"SELECT set_config('standard_conforming_strings', 'off', false);\n", "standard_conforming_strings"),
    ],
)
def test_a_meta_command_psql_would_run_is_refused(script: bytes, named: str) -> None:
    with pytest.raises(ScriptRefused) as refused:
        read(b"SET client_encoding = 'UTF8';\n" + script)
    # The line named is the one psql would have run it from: the last of each script (after line 1).
    culprit = 1 + script.count(b"\n")
    assert named in refused.value.message and f"line {culprit}:" in refused.value.message


@pytest.mark.parametrize(
    "script",
    [
        b"SELECT E'\\\\! escaped', E'it\\'s \\\\! still a string', 'plain \\ backslash';\n",
        b'CREATE TABLE "odd\\name" (a int);\n',
        b"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT '\\! not run' $body$;\n",
        b"CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nSELECT a$b FROM t$x;\n",
        b"-- a comment \\! is not run\n/* nor /* nested \\! */ here \\! */ SELECT 1;\n",
        b"COPY public.t (a, b) FROM stdin;\n\\\\! data with a backslash\n\\N\t1\n\\.\nSELECT 1;\n",
        b"COPY public.empty (a) FROM stdin;\n\\.\n",
        b"\\restrict Abc123\nSET standard_conforming_strings = on;\n\\unrestrict Abc123\n",
        b"SELECT 1",  # an unterminated last statement
    ],
)
def test_what_pg_dump_writes_passes(script: bytes) -> None:
    read(script)


def test_a_real_dump_passes_in_any_chunking_and_an_injection_is_found_in_any(tmp_path: object) -> None:
    lines = [
        b"SET standard_conforming_strings = on;\n",
        b"SELECT pg_catalog.set_config('search_path', '', false);\n",
    ]
    lines += [b"CREATE TABLE public.t (a text);\n", b"COPY public.t (a) FROM stdin;\n"]
    lines += [f"row {i} with \\\\ and 'quotes' and $$\n".encode() for i in range(2000)]
    lines += [b"\\.\n", b"CREATE INDEX t_a ON public.t USING btree (a);\n"]
    script = b"".join(lines)
    rng = random.Random(7)
    for _ in range(20):
        read(script, rng.randint(1, 300))
    bad = script.replace(b"CREATE INDEX", b"\\! touch PWNED\nCREATE INDEX")
    for _ in range(20):
        with pytest.raises(ScriptRefused):
            read(bad, rng.randint(1, 300))
