"""core/errors.py: one family of errors, each with the exit code of the CLI contract, a message and a hint;
the line shown to the user is the message with the hint after it."""

from __future__ import annotations

import pytest

from mandala_db.core.errors import (
    BadInput,
    CheckFailed,
    LockNotObtained,
    MandalaError,
    OperationFailed,
    Refused,
)


@pytest.mark.parametrize(
    ("kind", "code"),
    [(OperationFailed, 1), (BadInput, 2), (Refused, 3), (LockNotObtained, 4), (CheckFailed, 5)],
)
def test_each_kind_carries_its_exit_code(kind: type[MandalaError], code: int) -> None:
    error = kind("what went wrong", "what to do")
    assert isinstance(error, MandalaError) and error.exit_code == code


def test_the_line_is_the_message_and_the_hint() -> None:
    assert BadInput("unknown revision 'x'", "see the ids").line() == "unknown revision 'x' (see the ids)"
    assert OperationFailed("pg_dump failed").line() == "pg_dump failed"
    assert str(Refused("no", "yes")) == "no"
