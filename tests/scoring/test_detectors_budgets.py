"""cost_blowup and latency_budget: fire and near-miss."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_backtest.scoring.detectors import CostBlowup, LatencyBudget
from agent_backtest.scoring.verdict import Outcome
from tests.scoring.traces import TraceBuilder

SECOND = 1_000_000_000


def test_cost_blowup_fires_on_cost_and_points_at_the_costliest_calls() -> None:
    b = TraceBuilder()
    cheap = b.llm("a", cost=0.10, input_tokens=100, output_tokens=10)
    big = b.llm("b", cost=1.50, input_tokens=100, output_tokens=10)
    mid = b.llm("c", cost=0.60, input_tokens=100, output_tokens=10)
    verdict = CostBlowup(max_evidence=2).classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == [big, mid]
    assert cheap not in verdict.evidence
    assert verdict.value == pytest.approx(2.2)
    assert verdict.reason == "cost $2.20 over the $1.00 budget"


def test_cost_blowup_fires_on_tokens_when_no_cost_is_recorded() -> None:
    b = TraceBuilder()
    b.llm("a", input_tokens=150_000, output_tokens=1_000)
    b.llm("b", input_tokens=90_000, output_tokens=1_000)
    verdict = CostBlowup().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason == "242,000 tokens over the 200,000-token budget"


def test_cost_blowup_near_miss_within_budget() -> None:
    b = TraceBuilder()
    b.llm("a", cost=0.99, input_tokens=1000, output_tokens=10)
    verdict = CostBlowup().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert verdict.reason == "cost $0.99 within $1.00; 1,010 tokens within 200,000"


def test_cost_blowup_needs_some_budget() -> None:
    with pytest.raises(ValueError, match="max_cost or max_total_tokens"):
        CostBlowup(max_cost=None, max_total_tokens=None)
    with pytest.raises(ValidationError):
        CostBlowup(max_cost=-1)


def test_latency_budget_fires_with_the_slowest_spans_as_evidence() -> None:
    b = TraceBuilder()
    b.llm("a", duration=2 * SECOND)
    slow = b.tool("export", {}, {"ok": True}, duration=100 * SECOND)
    verdict = LatencyBudget(max_duration_s=60, max_evidence=1).classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == ["root", slow]
    assert verdict.reason.startswith("took 102.0s, over the 60s budget (slowest: export 100.0s)")


def test_latency_budget_near_miss() -> None:
    b = TraceBuilder()
    b.llm("a", duration=119 * SECOND)
    verdict = LatencyBudget().classify(b.build())  # default budget: 120 s
    assert verdict.outcome is Outcome.PASS
    assert verdict.reason == "took 119.0s, within the 120s budget"
