"""Collection parses each case file through the parse cache, so the gate's reload is cheap."""

from __future__ import annotations

import orjson
import pytest


def test_collection_fills_the_parse_cache_with_every_case_and_a_rerun_still_collects_them(
    project: pytest.Pytester,
) -> None:
    cases = sorted(p.name for p in project.path.glob("evalsets/*/cases/*.yaml"))
    first = project.runpytest("--agent-evals", "--collect-only", "-q")
    first.assert_outcomes()
    packs = list(project.path.glob(".backtest/cache/evalset-parse/*.json"))
    assert len(packs) == 1
    assert len(orjson.loads(packs[0].read_bytes())["entries"]) == len(cases)
    # A second collection is served from the pack and still yields every case.
    again = project.runpytest("--agent-evals", "--collect-only", "-q")
    assert f"{len(cases)} tests collected" in again.stdout.str()
