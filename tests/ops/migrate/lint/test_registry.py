"""The registry is the one list of rules: one module under ops/migrate/lint/rules/ a rule, named for it,
and the README's table is the registry's own rendering."""

from __future__ import annotations

import importlib
import pkgutil

from conftest import ROOT
from mandala_db.cli.lint_views import rules_table
from mandala_db.ops.migrate.lint import RULES
from mandala_db.ops.migrate.lint import rules as rule_package


def test_one_module_a_rule_named_for_it() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(rule_package.__path__))
    assert modules == sorted(name.replace("-", "_") for name in RULES)
    for name, rule in RULES.items():
        assert rule.module == f"mandala_db.ops.migrate.lint.rules.{name.replace('-', '_')}"
        assert rule.severity in ("error", "warning") and rule.lock and rule.cost and rule.alternative


def test_the_readme_rule_table_is_the_registry() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- lint-rules:start")
    block = readme[readme.index("\n", start) + 1 : readme.index("<!-- lint-rules:end -->")]
    assert block == rules_table(), "run `mandala-db lint --list-rules` and paste it into the README"


def test_every_rule_has_a_test_file_with_a_trigger_a_safe_form_and_a_waiver_test() -> None:
    for name in RULES:
        module = importlib.import_module(f"ops.migrate.lint.rules.test_{name.replace('-', '_')}")
        if name == "bad-waiver":  # a waiver's own mistakes: its file plants them
            continue
        case = module.CASE
        assert case.trigger or case.extra, f"{name} has no trigger"
        assert case.safe or name == "destructive-downgrade", f"{name} has no safe form"
        assert hasattr(module, "test_fires_on_the_risky_form_and_is_silent_on_the_safe_one")
        assert hasattr(module, "test_is_waived_by_a_comment_with_a_reason")
