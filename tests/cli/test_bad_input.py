"""Bad input is bad input: exit 2 with one line that says what is wrong and what to do, never an
`unexpected error`, whatever shape the input takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Result, run_cli
from mandala_db.core.url import DatabaseURL


def one_bad_input_line(result: Result) -> str:
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "unexpected error" not in lines[0] and "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'suppress = "role.application"\n', "must be a list of tables"),
        (b"\xff\xfe[[suppress]]\n", "is not UTF-8"),
        (b'[[suppress]]\nid = 7\nreason = "x"\nexpires = 2099-01-01\n', "`id` must be a string, not int"),
        (
            b'[[suppress]]\nid = "role.application"\nreason = ["x"]\nexpires = 2099-01-01\n',
            "`reason` must be a string",
        ),
        (
            b'[[suppress]]\nid = "role.application"\nreason = "x"\nexpires = "soon"\n',
            "`expires` must be a TOML date",
        ),
        (b"suppress = [1, 2]\n", "must be a list of tables"),
    ],
)
def test_a_malformed_suppressions_file_is_one_line(
    content: bytes, says: str, db_url: DatabaseURL, tmp_path: Path
) -> None:
    path = tmp_path / "suppressions.toml"
    path.write_bytes(content)
    line = one_bad_input_line(run_cli("security", "check", "--suppressions", str(path), url=db_url))
    assert says in line and str(path) in line


def test_an_audit_snapshot_nested_100000_deep_is_one_line(db_url: DatabaseURL, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    line = one_bad_input_line(run_cli("security", "audit", "--against", str(deep), url=db_url))
    assert "is not a saved security audit" in line
    odd = tmp_path / "odd.json"
    odd.write_text('{"format": 1, "database": "x", "sections": {"roles": "abc"}}')
    assert "is not a saved security audit" in one_bad_input_line(
        run_cli("security", "audit", "--against", str(odd), url=db_url)
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("logs", "tail", "--since", "99999999999h"), "--since '99999999999h' is too long"),
        (("logs", "tail", "--since", "soon"), "write e.g. 30 (seconds)"),
        (("drill", "--rto-target", "fast"), "write e.g. 30 (seconds)"),
        (("migrate", "deploy", "--lock-timeout", "forever"), "write e.g. 30000 (milliseconds)"),
        (("migrate", "deploy", "--lock-timeout", "9999999h"), "is too long"),
    ],
)
def test_durations_say_which_unit_a_bare_number_is_and_refuse_the_absurd(
    args: tuple[str, ...], says: str, db_url: DatabaseURL
) -> None:
    assert says in one_bad_input_line(run_cli(*args, url=db_url))


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("pushgateway = 7", "pushgateway = 7 must be a string, not int"),
        ('metrics = [1, "emf"]', "must list strings"),
        ("alert-after = true", "must be a duration"),
        ('alert-webhook = { url = "x" }', "must be a string, not dict"),
    ],
)
def test_a_setting_of_the_wrong_type_is_one_line(
    setting: str, says: str, db_url: DatabaseURL, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.mandala-db]\n{setting}\n")
    line = one_bad_input_line(run_cli("migrate", "status", url=db_url, cwd=tmp_path))
    assert says in line and "[tool.mandala-db]" in line
