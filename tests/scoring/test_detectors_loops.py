"""step_repetition, cascading_retries, context_overflow, truncation: fire and near-miss."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_backtest.scoring.detectors import (
    CascadingRetries,
    ContextOverflow,
    StepRepetition,
    Truncation,
)
from agent_backtest.scoring.verdict import Outcome
from tests.scoring.traces import TraceBuilder


def looping_agent(times: int, *, vary: bool = False) -> tuple[TraceBuilder, list[str]]:
    b = TraceBuilder()
    tools = []
    for i in range(times):
        b.llm(calls=(("lookup_order", {"order_id": 1843}),))
        args = {"order_id": 1843 + i} if vary else {"order_id": 1843}
        tools.append(b.tool("lookup_order", args, {"status": "processing"}))
    return b, tools


def test_step_repetition_fires_on_five_identical_calls() -> None:
    b, tools = looping_agent(5)
    verdict = StepRepetition().classify(b.build("Still processing."))
    assert verdict.outcome is Outcome.FAIL
    assert verdict.label == "detected"
    assert verdict.failure_mode == "step_repetition"
    assert verdict.evidence == tools
    assert verdict.value == 5
    assert verdict.reason == (
        'lookup_order called 5 times in a row with identical arguments {"order_id": 1843}'
    )


def test_step_repetition_ignores_key_order_case_and_whitespace() -> None:
    b = TraceBuilder()
    for args in ({"q": "Red  Shoes", "n": 1}, {"n": 1, "q": "red shoes"}, {"q": " red shoes"}):
        b.tool("search", {"n": 1, **args} if "n" not in args else args)
    assert StepRepetition().classify(b.build()).outcome is Outcome.FAIL


def test_step_repetition_near_miss_two_calls_under_threshold() -> None:
    b, _ = looping_agent(2)
    verdict = StepRepetition().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert verdict.label == "not_detected"
    assert verdict.evidence == []
    assert "longest run of repeated tool calls: 2 (fires at 3)" in verdict.reason


def test_step_repetition_near_miss_same_tool_different_arguments() -> None:
    b, _ = looping_agent(5, vary=True)
    assert StepRepetition().classify(b.build()).outcome is Outcome.PASS


def test_step_repetition_similarity_below_one_joins_near_identical_arguments() -> None:
    b = TraceBuilder()
    for query in ("refund policy for order", "refund policy for orders", "refund policy of order"):
        b.tool("search_docs", {"query": query})
    verdict = StepRepetition(similarity=0.9).classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert "near-identical arguments" in verdict.reason


def test_step_repetition_llm_budget_points_at_calls_past_the_budget() -> None:
    b = TraceBuilder()
    llms = [b.llm(f"thinking {i}") for i in range(5)]
    verdict = StepRepetition(max_llm_calls=3).classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason == "5 LLM calls, over the budget of 3"
    assert verdict.evidence == llms[3:]
    assert StepRepetition(max_llm_calls=5).classify(b.build()).outcome is Outcome.PASS


def test_detector_parameters_are_validated() -> None:
    with pytest.raises(ValidationError):
        StepRepetition(min_repeats=1)
    with pytest.raises(ValidationError):
        StepRepetition(min_repats=3)  # type: ignore[call-arg]


# --- cascading_retries ------------------------------------------------------


def test_cascading_retries_fires_on_retries_at_two_layers() -> None:
    b = TraceBuilder()
    outer: list[str] = []
    inner: list[str] = []
    for attempt in range(3):
        step = b.chain("payment_step", span_id=f"step{attempt}", error=True)
        outer.append(step)
        inner.extend(
            b.tool("charge_card", {"amount": 10}, error="503", parent=step) for _ in range(2)
        )
    verdict = CascadingRetries().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence[:3] == outer
    assert set(verdict.evidence) == set(outer + inner)
    assert verdict.value == 9
    assert verdict.reason.startswith(
        "charge_card retried at two layers: 3 attempts of payment_step, "
        "with 6 retried attempts inside them (9 of 9 spans failed)"
    )


def test_cascading_retries_fires_on_a_streak_of_identical_failures() -> None:
    b = TraceBuilder()
    failed = []
    for _ in range(4):
        b.llm(calls=(("get_weather", {"city": "Paris"}),))
        failed.append(b.tool("get_weather", {"city": "Paris"}, {"error": "rate limited"}))
    verdict = CascadingRetries().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason == "get_weather failed 4 times in a row"
    assert verdict.evidence == failed


def test_cascading_retries_near_miss_one_layer_that_recovers() -> None:
    b = TraceBuilder()
    step = b.chain("payment_step")
    b.tool("charge_card", {"amount": 10}, error="503", parent=step)
    b.tool("charge_card", {"amount": 10}, error="503", parent=step)
    b.tool("charge_card", {"amount": 10}, {"charged": True}, parent=step)
    verdict = CascadingRetries().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert "longest streak of identical failures: 2 (fires at 3)" in verdict.reason


def test_cascading_retries_near_miss_failures_of_different_tools() -> None:
    b = TraceBuilder()
    for name in ("a", "b", "c", "d"):
        b.tool(name, {}, error="boom")
    assert CascadingRetries().classify(b.build()).outcome is Outcome.PASS


# --- context_overflow -------------------------------------------------------


def test_context_overflow_fires_on_climbing_prompt_and_length_stop() -> None:
    b = TraceBuilder()
    climb = [b.llm(input_tokens=t) for t in (1000, 2500, 6000)]
    cut = b.llm(input_tokens=9000, finish="length")
    verdict = ContextOverflow().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == [*climb, cut]
    assert verdict.reason == (
        "prompt tokens climbed 1000 → 9000 (9.0x) over 4 consecutive LLM calls "
        "and 1 call stopped with finish_reason=length"
    )


def test_context_overflow_near_miss_climb_without_length_stop() -> None:
    b = TraceBuilder()
    for t in (1000, 2500, 6000, 9000):
        b.llm(input_tokens=t)
    verdict = ContextOverflow().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert "9.0x" in verdict.reason
    assert ContextOverflow(require_length_finish=False).classify(b.build()).passed is False


def test_context_overflow_near_miss_length_stop_before_the_climb() -> None:
    b = TraceBuilder()
    b.llm(input_tokens=5000, finish="length")
    for t in (1000, 1100, 1200):
        b.llm(input_tokens=t)
    assert ContextOverflow().classify(b.build()).outcome is Outcome.PASS


def test_context_overflow_fires_near_the_context_limit() -> None:
    b = TraceBuilder()
    b.llm(input_tokens=1000)
    near = b.llm(input_tokens=7500)
    detector = ContextOverflow(context_limit=8000)
    verdict = detector.classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == [near]
    assert "1 LLM call used at least 90% of the 8000-token context (peak 7500" in verdict.reason
    assert ContextOverflow(context_limit=9000).classify(b.build()).outcome is Outcome.PASS


# --- truncation -------------------------------------------------------------


def test_truncation_fires_over_the_share() -> None:
    b = TraceBuilder()
    b.llm("a")
    cut = [b.llm("b", finish="length"), b.llm("c", finish="MAX_TOKENS")]
    b.llm("d")
    verdict = Truncation().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == cut
    assert verdict.value == 0.5
    assert verdict.reason == (
        "2 of 4 LLM calls (50%) stopped with finish_reason=length, over the 10% threshold"
    )


def test_truncation_near_miss_one_in_twenty() -> None:
    b = TraceBuilder()
    b.llm("cut", finish="length")
    for _ in range(19):
        b.llm("ok")
    verdict = Truncation().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert "1 of 20 LLM calls (5%)" in verdict.reason
