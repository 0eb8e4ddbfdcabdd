"""core/settings_file.py: the project is the nearest folder up with `.mandala/`, a `mandala-db.toml` or a
pyproject that declares `[tool.mandala-db]`; its file is read against the table: an unknown key is one
warning naming the nearest known one (never a reason to stop), a value of the wrong type is bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.core.settings_file import FileValues, project_root


def test_the_project_is_the_nearest_folder_up_that_says_so(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert project_root(deep) == deep.resolve()  # nothing says so: the folder itself
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'other'\n")
    assert project_root(deep) == deep.resolve()  # a pyproject without the table is not ours
    (tmp_path / "a" / "pyproject.toml").write_text("[tool.mandala-db]\n")
    assert project_root(deep) == (tmp_path / "a").resolve()
    (tmp_path / "a" / "b" / "mandala-db.toml").write_text("")
    assert project_root(deep) == (tmp_path / "a" / "b").resolve()
    (deep / ".mandala").mkdir()
    assert project_root(deep) == deep.resolve()


def test_mandala_db_toml_wins_over_pyproject_and_is_read_at_its_top(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mandala-db]\nnamespace = "From/Pyproject"\n')
    assert FileValues.read(tmp_path).values == {"namespace": "From/Pyproject"}
    (tmp_path / "mandala-db.toml").write_text('namespace = "Team/DB"\nalert_after = 12\n')
    assert FileValues.read(tmp_path).values == {"namespace": "Team/DB", "alert_after": 12}


def test_an_unknown_key_is_one_warning_naming_the_nearest(tmp_path: Path) -> None:
    (tmp_path / "mandala-db.toml").write_text('metrcs = "emf"\nzzz = 1\nlog-group = "/g"\n')
    found = FileValues.read(tmp_path)
    assert found.values == {"log_group": "/g"}
    assert (
        found.warnings[0] == "unknown setting 'metrcs' in mandala-db.toml (ignored): did you mean 'metrics'?"
    )
    assert len(found.warnings) == 2 and "known: log-format" in found.warnings[1]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("pushgateway = 7", "pushgateway = 7 must be a string, not int"),
        ("alert-after = true", "must be a duration"),
        ('metrics = [1, "emf"]', "must list strings"),
        ("backup-retention-days = 1.5", "must be a whole number of days"),
        ("[namespace]", "must be a string, not dict"),
    ],
)
def test_a_value_of_the_wrong_type_is_bad_input(line: str, says: str, tmp_path: Path) -> None:
    (tmp_path / "mandala-db.toml").write_text(line + "\n")
    with pytest.raises(BadInput, match=re.escape(says)):
        FileValues.read(tmp_path)


def test_a_file_that_is_not_toml_is_bad_input_naming_it(tmp_path: Path) -> None:
    (tmp_path / "mandala-db.toml").write_text("namespace = \n")
    with pytest.raises(BadInput, match=re.escape("mandala-db.toml is not valid TOML")):
        FileValues.read(tmp_path)
