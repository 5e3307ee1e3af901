"""Shards: which slice of the cases a run takes, and putting the slices back together.

``--agent-evals-shard I/N`` keeps the cases whose stable hash of
``"<evalset>/<case id>"`` is ``I-1`` modulo ``N`` (I is 1-based, like a CI
matrix index). The hash is SHA-256, never ``hash()``: it must give every
machine, worker and Python version the same slice, so N shards partition the
cases exactly. ``merge_case_results`` is the other half, used by ``backtest merge``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent_backtest.errors import InputError, Location
from agent_backtest.replay.result import CaseResult

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def holds(self, evalset: str, case_id: str) -> bool:
        return shard_index(evalset, case_id, self.total) == self.index


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4). Raises ValueError with what was expected."""
    found = _SHARD.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not I/N (e.g. 1/4)")
    index, total = int(found[1]), int(found[2])
    if total < 1 or not 1 <= index <= total:
        raise ValueError(f"{text!r}: I must be between 1 and N, and N at least 1 (e.g. 1/4)")
    return Shard(index, total)


def shard_index(evalset: str, case_id: str, total: int) -> int:
    """The 1-based shard of ``total`` that runs the case."""
    digest = hashlib.sha256(f"{evalset}/{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def result_key(result: CaseResult) -> str:
    return f"{result.evalset}/{result.case_id}"


def merge_case_results(sources: Iterable[tuple[str, Iterable[CaseResult]]]) -> list[CaseResult]:
    """Every case once, in (evalset, id) order, from ``(file name, results)`` pairs.

    The same case in two files is kept once when both copies are identical (a
    result.json given twice, or a re-run job's artifact next to the original);
    with different content nobody can say which run counts, so it is an error.
    """
    kept: dict[str, tuple[str, CaseResult, str]] = {}
    for source, results in sources:
        for result in results:
            key = result_key(result)
            body = result.to_json()
            if key not in kept:
                kept[key] = (source, result, body)
                continue
            first, _, first_body = kept[key]
            if body != first_body:
                raise InputError(
                    f"case {key} is in both {first} and {source} with different results",
                    where=Location(source, field=f"cases[{key}]"),
                    fix="merge each shard's result.json once; drop the stale or re-run copy",
                )
    return [result for _, result, _ in sorted(kept.values(), key=lambda k: result_key(k[1]))]
