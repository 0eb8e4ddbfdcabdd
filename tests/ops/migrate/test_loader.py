"""ops/migrate/loader.py: the history as the files say it. A revision is named by its id, a unique prefix
of it, or the words after its timestamp; `base` and `head` are the two ends; anything else is one line."""

from __future__ import annotations

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.ops.migrate.loader import BASE, History

HISTORY = History.load()


def test_a_revision_is_named_by_its_id_a_prefix_or_its_words() -> None:
    rev = HISTORY.named("split_reflections")
    assert rev.id == "20250409000000_split_reflections" and rev.id == HISTORY.head
    assert HISTORY.named("20250409").id == rev.id and HISTORY.named(rev.id) is rev
    assert HISTORY.resolve("head") == rev.id and HISTORY.resolve("base") == BASE


def test_the_order_is_the_chain_of_down_revisions() -> None:
    ids = [r.id for r in HISTORY.revisions]
    assert ids[0] == HISTORY.named("init").id and HISTORY.named("init").down_revision is None
    for earlier, later in zip(HISTORY.revisions, HISTORY.revisions[1:], strict=False):
        assert later.down_revision == earlier.id
    assert HISTORY.after(HISTORY.named("add_workflow_executions").id) == [HISTORY.named("split_reflections")]
    assert HISTORY.upto(BASE) == []


@pytest.mark.parametrize(
    ("ref", "says"),
    [("nope", "unknown revision 'nope'"), ("2025", "is ambiguous"), ("base", "base is not a revision")],
)
def test_a_ref_that_names_no_one_revision_is_bad_input(ref: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        HISTORY.named(ref)
