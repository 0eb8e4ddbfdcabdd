"""core/settings_table.py: one table names each setting once, a row without its field is refused at
import, the command line's global options are the table's flags, and the README's table is the code's."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import fields

from conftest import ROOT
from mandala_db.core.settings import MonitorSettings, Settings
from mandala_db.core.settings_table import BY_KEY, SETTING, SETTINGS, markdown_table


def test_the_readme_table_is_the_table_in_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- settings:start[^>]*-->\n(.*?)\n<!-- settings:end -->", readme, re.S)
    assert block, "the README has no settings block"
    assert block.group(1) == markdown_table()


def test_every_setting_with_a_flag_is_a_global_option() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "mandala_db", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for setting in SETTINGS:
        if setting.flag and not setting.hidden:
            assert setting.flag in shown, setting.flag


def test_every_row_names_a_field_and_each_name_key_and_variable_is_used_once() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names)) == len(SETTING)
    variables = [v for s in SETTINGS for v in s.env]
    assert len(variables) == len(set(variables))
    assert len(BY_KEY) == len([s for s in SETTINGS if s.key])
    for s in SETTINGS:
        holder = MonitorSettings if s.group == "monitor" else Settings
        assert s.name in {f.name for f in fields(holder)}, s.name
        assert s.help.endswith(".") and s.default, s.name
