"""core/settings.py: the file, the variable and the flag give each setting a value in that order of
strength; every key of the table is read from the file; a value of the wrong type is one line and exit 2;
an empty variable is no value except where empty says something; the URL's secret is hidden first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.core.settings import SETTING, SETTINGS, Environment, Settings


def resolve(tmp_path: Path, file: str = "", env: dict[str, str] | None = None, **flags: str) -> Settings:
    if file:
        (tmp_path / "pyproject.toml").write_text(f"[tool.mandala-db]\n{file}\n")
    return Settings.resolve(flags, env or {}, cwd=tmp_path)


def test_a_file_value_yields_to_the_variable_and_the_variable_to_the_flag(tmp_path: Path) -> None:
    file = 'alert-after = "10s"\nbackup-dir = "from-file"\nmetrics = ["emf"]'
    assert resolve(tmp_path, file).monitor.alert_after == 10.0
    assert resolve(tmp_path, file).backup_dir == Path("from-file")
    by_env = resolve(tmp_path, file, {"MANDALA_ALERT_AFTER": "20", "BACKUP_DIR": "from-env"})
    assert (by_env.monitor.alert_after, by_env.backup_dir) == (20.0, Path("from-env"))
    by_flag = resolve(tmp_path, file, {"MANDALA_ALERT_AFTER": "20"}, alert_after="30s", metrics="prometheus")
    assert (by_flag.monitor.alert_after, by_flag.monitor.metrics) == (30.0, ("prometheus",))


def test_an_empty_variable_is_no_value_except_where_empty_means_something(tmp_path: Path) -> None:
    unset = resolve(tmp_path, env={"BACKUP_DIR": "", "S3_BACKUP_BUCKET": "", "HOME": str(tmp_path)})
    assert unset.backup_dir == tmp_path.resolve() / "backups" and unset.s3_bucket is None
    assert unset.cache_dir == tmp_path / ".cache" / "mandala-db"
    assert resolve(tmp_path, env={"MANDALA_CACHE_DIR": "", "HOME": "/h"}).cache_dir is None  # turned off
    with pytest.raises(BadInput, match="DATABASE_URL is set but empty"):
        resolve(tmp_path, env={"DATABASE_URL": " "})
    with pytest.raises(BadInput, match="--database-url is empty"):
        resolve(tmp_path, database_url="")


def test_every_key_of_the_table_is_read_from_the_file(tmp_path: Path) -> None:
    values = {"seconds": '"7s"', "sinks": '"emf"', "days": "9", "path": '"p"', "log-format": '"json"'}
    lines = [f"{s.key} = {values.get(s.kind, chr(34) + 'x' + chr(34))}" for s in SETTINGS if s.key]
    (tmp_path / "project").mkdir(), (tmp_path / "elsewhere").mkdir()
    got = resolve(tmp_path / "project", "\n".join(lines))
    default = Settings.resolve({}, {}, cwd=tmp_path / "elsewhere")
    assert not got.file_warnings
    for setting in SETTINGS:
        if setting.key:
            holder = got.monitor if setting.group == "monitor" else got
            before = getattr(default.monitor if setting.group == "monitor" else default, setting.name)
            assert getattr(holder, setting.name) != before, setting.name


def test_an_unknown_key_is_one_warning_naming_the_nearest_and_never_stops(tmp_path: Path) -> None:
    got = resolve(tmp_path, 'metrcs = "emf"\nalert-after = 12')
    assert got.file_warnings == [
        "unknown setting 'metrcs' in pyproject.toml (ignored): did you mean 'metrics'?"
    ]
    assert got.monitor.alert_after == 12.0 and got.monitor.metrics == ()
    far = resolve(tmp_path, "zzz = 1").file_warnings
    assert len(far) == 1 and "known: log-format" in far[0]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        # One file-type case to show it reaches the command as exit 2 (the rest: test_settings_file.py),
        # and the values of the right type that do not parse.
        ("pushgateway = 7", "pushgateway = 7 must be a string, not int"),
        ('log-format = "xml"', "unknown log format 'xml'"),
        ('metrics = "emf,graphite"', "unknown metrics sink 'graphite'"),
    ],
)
def test_a_value_of_the_wrong_type_is_bad_input(line: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=re.escape(says)) as caught:
        resolve(tmp_path, line)
    assert caught.value.exit_code == 2


def test_a_mandala_db_toml_is_read_at_its_top_level(tmp_path: Path) -> None:
    (tmp_path / "mandala-db.toml").write_text('namespace = "Team/DB"\n')
    assert Settings.resolve({}, {}, cwd=tmp_path).monitor.namespace == "Team/DB"


def test_a_sub_folder_uses_the_projects_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mandala-db]\nlog-group = "/team/db"\n')
    (tmp_path / "src" / "deep").mkdir(parents=True)
    got = Settings.resolve({}, {}, cwd=tmp_path / "src" / "deep")
    assert got.monitor.log_group == "/team/db" and got.monitor.log_group_configured
    assert got.state_dir == tmp_path.resolve() / ".mandala"


def test_the_url_password_is_registered_before_the_url_is_parsed(tmp_path: Path) -> None:
    from mandala_db.core.events import bus

    with pytest.raises(BadInput) as caught:
        resolve(tmp_path, database_url="postgresql://u:pw-s3nt1nel@h:99999/db")
    assert "pw-s3nt1nel" not in str(caught.value) and "pw-s3nt1nel" not in bus.scrub("pw-s3nt1nel")


def test_environment_resolution_order() -> None:
    assert Environment.resolve(None, {}) is Environment.DEVELOPMENT
    assert Environment.resolve(None, {"NODE_ENV": "production"}) is Environment.PRODUCTION
    assert (
        Environment.resolve(None, {"NODE_ENV": "production", "MANDALA_ENV": "staging"}) is Environment.STAGING
    )
    assert Environment.resolve("test", {"MANDALA_ENV": "staging"}) is Environment.TEST
    assert Environment.resolve("prod", {}).protected
    with pytest.raises(BadInput, match="unknown environment 'qa'"):
        Environment.resolve("qa", {})
    assert SETTING["environment"].env == ("MANDALA_ENV", "NODE_ENV")
