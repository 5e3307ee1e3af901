"""Shard selection: stable, 1-based, and an exact partition of the cases."""

from __future__ import annotations

import pytest

from agent_backtest.report.shards import Shard, parse_shard, shard_index


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_n_shards_partition_the_cases_exactly(total: int) -> None:
    cases = [("support", f"case-{n}") for n in range(500)]
    slices = [{c for c in cases if Shard(index, total).holds(*c)} for index in range(1, total + 1)]
    assert sum(len(s) for s in slices) == len(cases)  # every case once: no overlap
    assert set().union(*slices) == set(cases)  # and none left out
    assert all(len(s) > 500 / total / 2 for s in slices)  # no slice starves


def test_the_shard_of_a_case_never_changes_between_releases_or_machines() -> None:
    # Pinned: CI jobs on different Python versions must agree on the slices.
    assert shard_index("support", "follows-recorded-path", 2) == 2
    assert shard_index("support", "refunds-twice", 2) == 1
    assert shard_index("support", "refunds-twice", 3) == 2


def test_the_evalset_is_part_of_the_key() -> None:
    spread = {shard_index(evalset, "same-id", 16) for evalset in ("a", "b", "c", "d", "e", "f")}
    assert len(spread) > 1


@pytest.mark.parametrize(
    ("text", "expected"), [("1/4", Shard(1, 4)), (" 4 / 4 ", Shard(4, 4)), ("1/1", Shard(1, 1))]
)
def test_parse_shard_accepts_i_of_n(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert str(expected) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/4", "I must be between 1 and N"),
        ("5/4", "I must be between 1 and N"),
        ("1/0", "I must be between 1 and N"),
        ("1", "is not I/N"),
        ("one/two", "is not I/N"),
        ("-1/4", "is not I/N"),
    ],
)
def test_parse_shard_rejects_what_is_not_i_of_n(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shard(text)
