"""ops/security/suppressions: a reviewed exception suppresses a failing finding only with an id, a reason
and an expiry still to come; every other entry suppresses nothing and is reported; a file that cannot be
read or is not the right shape is bad input (exit 2) with what to write."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.ops.security.findings import Finding
from mandala_db.ops.security.suppressions import Suppression, apply, load

TODAY = date(2026, 12, 3)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "security-suppressions.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_only_a_complete_unexpired_entry_is_in_force_and_each_other_one_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, """
[[suppress]]
id = "role.application"
object = "role postgres"
reason = "CI database on loopback"
expires = 2026-12-03
[[suppress]]
reason = "no id"
expires = 2027-01-01
[[suppress]]
id = "log.connections"
reason = "  "
expires = 2027-01-01
[[suppress]]
id = "ssl.off"
reason = "later"
[[suppress]]
id = "hba.trust"
object = "line 3"
reason = "was fine"
expires = 2026-12-02
""")  # fmt: skip
    active, problems = load(path, today=TODAY)
    assert active == [Suppression("role.application", "role postgres", "CI database on loopback", TODAY)]
    assert [p.split(": ", 1)[1] for p in problems] == [
        "no id, suppresses nothing",
        "no reason, suppresses nothing",
        "no expiry date (expires = YYYY-MM-DD), suppresses nothing",
        "expired on 2026-12-02, suppresses nothing",
    ]
    assert problems[3].startswith(f"{path} entry 5 (hba.trust on line 3)")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("suppress = 1", "must be a list of tables"),
        ('[[suppress]]\nid = 7\nreason = "r"\nexpires = 2027-01-01', "`id` must be a string, not int"),
        ('[[suppress]]\nid = "x"\nreason = "r"\nexpires = "2027-01-01"', "`expires` must be a TOML date"),
        ("[[suppress]\n", "is not valid TOML"),
    ],
)
def test_a_file_of_the_wrong_shape_is_bad_input(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        load(write(tmp_path, text), today=TODAY)


def test_a_missing_or_unreadable_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        load(tmp_path / "nope.toml")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('reason = "caf\xe9"'.encode("latin-1"))
    with pytest.raises(BadInput, match="is not UTF-8 text"):
        load(latin1)


def test_no_file_given_and_none_in_the_working_directory_is_no_suppression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load(None) == ([], [])


def test_a_suppression_covers_failures_of_its_id_on_its_object_or_on_every_object() -> None:
    def finding(ident: str, obj: str, status: str = "fail") -> Finding:
        return Finding(ident, "t", "high", status, "e", object=obj)

    found = [finding("role.application", "role postgres"), finding("role.application", "role app"),
             finding("log.connections", ""), finding("ssl.off", "", status="pass")]  # fmt: skip
    apply(found, [Suppression("role.application", "role postgres", "CI", TODAY),
                  Suppression("log.connections", "", "ops ticket 12", TODAY), Suppression("ssl.off", "", "x", TODAY)])  # fmt: skip
    assert [f.suppressed for f in found] == [
        "CI (until 2026-12-03)",
        None,
        "ops ticket 12 (until 2026-12-03)",
        None,
    ]
