"""Sync agents really run ``concurrency`` at a time, beyond the event loop's default thread pool."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from agent_backtest.evalset.case import Case, CaseSource
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.replay.result import CaseOutcome
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases


def test_sync_agents_get_one_thread_per_concurrent_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More runs at once than asyncio's default pool has threads (cpu_count + 4): each
    # run waits at a barrier until all of them are inside, so a smaller pool deadlocks
    # into the barrier's timeout instead of passing.
    parties = min(32, (os.cpu_count() or 1) + 4) + 2
    monkeypatch.setenv("RENDEZVOUS_PARTIES", str(parties))
    jobs = [
        CaseJob(
            Case(id=f"case-{n}", title="t", source=CaseSource(trace_id=str(n))),
            EvalSetConfig(name="support"),
            tmp_path,
            "tests.replay.update_bot:rendezvous",
        )
        for n in range(parties)
    ]
    results = asyncio.run(run_cases(jobs, RunOptions(), concurrency=parties))
    assert [r.outcome for r in results] == [CaseOutcome.PASSED] * parties, results[0].render()
    assert {r.runs[0].output for r in results} == {"met"}
