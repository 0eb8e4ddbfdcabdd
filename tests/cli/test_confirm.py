"""cli/confirm: the one place that asks. --yes goes ahead; off a terminal it refuses (exit 3) instead of
waiting for an answer that never comes; at a terminal only the expected answer goes ahead."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from mandala_db.cli.confirm import confirm
from mandala_db.core.errors import Refused
from mandala_db.core.settings import Environment, Settings


def settings(**kw: bool) -> Settings:
    return Settings(environment=Environment.DEVELOPMENT, database_url=None, state_dir=Path("."), **kw)


def test_yes_goes_ahead_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer, "confirm", lambda *a, **k: pytest.fail("asked despite --yes"))
    confirm(settings(assume_yes=True), "Drop everything")


def test_off_a_terminal_it_refuses_with_the_way_to_confirm() -> None:
    with pytest.raises(Refused) as refused:
        confirm(settings(interactive=False), "Drop everything")
    assert refused.value.exit_code == 3
    assert "non-interactive" in str(refused.value) and refused.value.hint == "pass --yes to confirm"


def test_at_a_terminal_no_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer, "confirm", lambda *a, **k: False)
    with pytest.raises(Refused, match="not confirmed"):
        confirm(settings(interactive=True), "Drop everything")
    monkeypatch.setattr(typer, "confirm", lambda *a, **k: True)
    confirm(settings(interactive=True), "Drop everything")


def test_a_typed_confirmation_needs_exactly_the_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer, "prompt", lambda *a, **k: "product")
    with pytest.raises(Refused, match="expected 'production'"):
        confirm(settings(interactive=True), "Restore over production", typed="production")
    monkeypatch.setattr(typer, "prompt", lambda *a, **k: " production\n")
    confirm(settings(interactive=True), "Restore over production", typed="production")
