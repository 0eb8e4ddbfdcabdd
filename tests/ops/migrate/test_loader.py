"""ops/migrate/loader.py: the history as the files say it. A revision is named by its id, a unique prefix
of it, or the words after its timestamp; `base` and `head` are the two ends; anything else is one line."""

from __future__ import annotations

from pathlib import Path

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


def _baseline(folder: Path, replaces: str, down: str = "None") -> Path:
    path = folder / "20250101000000_base.py"
    path.write_text(
        f'"""A baseline."""\nrevision = "20250101000000_base"\ndown_revision = {down}\nreplaces = {replaces}\n'
    )
    return path


def test_a_baseline_names_what_it_replaces_and_the_old_ids_say_where_they_went(tmp_path: Path) -> None:
    checksum = "a" * 64
    _baseline(tmp_path, f'[("20240101000000_old", "{checksum}"), ("20250101000000_base", "{"b" * 64}")]')
    history = History.load(tmp_path)
    baseline = history.named("20250101000000_base")
    assert baseline.replaces[0] == ("20240101000000_old", checksum)
    assert baseline.accepted_checksums == {baseline.file_checksum, "b" * 64}
    assert history.replaced == {"20240101000000_old": baseline}
    with pytest.raises(BadInput, match="which the squashed baseline 20250101000000_base replaces"):
        history.index("20240101000000_old")


@pytest.mark.parametrize(
    ("replaces", "down"),
    [
        ("[('20240101000000_old', 'not-a-checksum')]", "None"),
        ("[('no id', '" + "a" * 64 + "')]", "None"),
        ("sorted(x)", "None"),
        ("[('20240101000000_old', '" + "a" * 64 + "')]", '"20240101000000_old"'),
    ],
)
def test_a_replaces_list_that_is_not_plain_pairs_or_a_baseline_that_is_not_first_is_bad_input(
    tmp_path: Path, replaces: str, down: str
) -> None:
    if down != "None":
        (tmp_path / "20240101000000_old.py").write_text(
            'revision = "20240101000000_old"\ndown_revision = None\n'
        )
    _baseline(tmp_path, replaces, down)
    with pytest.raises(BadInput, match="replaces"):
        History.load(tmp_path)
