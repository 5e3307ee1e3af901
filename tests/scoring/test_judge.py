"""LLM judges against a real local OpenAI-compatible server: every failure path."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_backtest.scoring.judge_client import Price, RetryPolicy
from agent_backtest.scoring.verdict import Outcome
from tests.scoring.judge_helpers import judge
from tests.support.openai_server import OpenAIServer, Reply
from tests.support.traces import agent_trace

YES = json.dumps({"label": "yes", "reason": "refund issued"})
NO = json.dumps({"label": "no", "reason": "no refund"})


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def test_pass_and_request_shape(server: OpenAIServer) -> None:
    server.script(YES)
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.PASS
    assert verdict.label == "yes"
    assert verdict.reason == "refund issued"
    assert verdict.failure_mode == "task_failure"
    (request,) = server.completion_requests
    body = request.body
    assert body["model"] == "judge-model"
    assert body["temperature"] == 0
    assert body["seed"] == 0
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["label"]["enum"] == ["yes", "no"]
    user = body["messages"][1]["content"]
    assert "User: Refund order 42" in user
    assert '1. refund({"order": 42}) -> {"ok": true}' in user


def test_fail_label_is_a_fail(server: OpenAIServer) -> None:
    server.script(NO)
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.label == "no"


def test_429_waits_for_retry_after(server: OpenAIServer) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "0.4"}), YES)
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.PASS
    first, second = server.completion_requests
    assert second.received_at - first.received_at >= 0.4  # backoff alone would be <= 0.01 s


def test_500_then_success(server: OpenAIServer) -> None:
    server.script(Reply(status=500), YES)
    assert judge(server).classify(agent_trace()).outcome is Outcome.PASS
    assert len(server.completion_requests) == 2


def test_timeout_then_success(server: OpenAIServer) -> None:
    server.script(Reply(hang=3), YES)
    started = time.monotonic()
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.PASS
    assert time.monotonic() - started < 2  # the client gave up after its 0.5 s timeout
    assert len(server.completion_requests) == 2


def test_malformed_json_is_retried(server: OpenAIServer) -> None:
    server.script(Reply(malformed=True), YES)
    assert judge(server).classify(agent_trace()).outcome is Outcome.PASS
    assert len(server.completion_requests) == 2


def test_persistent_malformed_json_is_an_error(server: OpenAIServer) -> None:
    server.default = Reply(malformed=True)
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.ERROR
    assert not verdict.passed
    assert "malformed response body" in verdict.reason
    assert len(server.completion_requests) == 3


def test_persistent_failure_is_an_error_never_a_pass(server: OpenAIServer) -> None:
    server.default = Reply(status=503)
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.ERROR
    assert verdict.label is None
    assert "after 3 attempts: HTTP 503" in verdict.reason
    assert len(server.completion_requests) == 3


def test_client_error_is_not_retried(server: OpenAIServer) -> None:
    server.script(Reply(status=401))
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.ERROR
    assert "HTTP 401" in verdict.reason
    assert len(server.completion_requests) == 1


def test_structured_output_rejected_falls_back_and_remembers(server: OpenAIServer) -> None:
    server.structured_output = False
    server.handler = lambda request: "Verdict: **Yes**\nReason: the refund tool succeeded"
    the_judge = judge(server)
    first = the_judge.classify(agent_trace("a"))
    second = the_judge.classify(agent_trace("b"))
    assert (first.label, second.label) == ("yes", "yes")
    assert first.reason == "the refund tool succeeded"
    sent = [r.response_format is not None for r in server.completion_requests]
    assert sent == [True, False, False]  # rejected once, then never sent again this run


def test_unreadable_answer_is_an_error(server: OpenAIServer) -> None:
    server.script("I cannot decide between yes and no.")
    verdict = judge(server).classify(agent_trace())
    assert verdict.outcome is Outcome.ERROR
    assert "could not read a label" in verdict.reason


def test_cache_rerun_makes_zero_requests(server: OpenAIServer, tmp_path: Path) -> None:
    traces = [agent_trace(f"t{i}", question=f"q{i}") for i in range(5)]
    server.handler = lambda request: YES if "q1" in request.prompt else NO
    first = asyncio.run(judge(server, tmp_path).classify_many(traces))
    assert len(server.completion_requests) == 5
    assert len(list((tmp_path / "judge").glob("*/*.json"))) == 5
    server.reset()
    again = asyncio.run(judge(server, tmp_path).classify_many(traces))
    assert server.completion_requests == []
    assert [v.label for v in again] == [v.label for v in first] == ["no", "yes", "no", "no", "no"]
    assert all(v.cost == 0 for v in again)
    changed = asyncio.run(judge(server, tmp_path).classify_many([agent_trace(question="new")]))
    assert changed[0].outcome is Outcome.FAIL
    assert len(server.completion_requests) == 1  # a changed prompt misses


def test_errors_are_not_cached(server: OpenAIServer, tmp_path: Path) -> None:
    server.script(Reply(status=400), YES)
    the_judge = judge(server, tmp_path, retry=RetryPolicy(max_attempts=1, timeout=1))
    server.structured_output = True
    assert the_judge.classify(agent_trace()).outcome is Outcome.PASS  # 400 with schema -> fallback
    assert judge(server, tmp_path).classify(agent_trace()).outcome is Outcome.PASS
    assert len(server.completion_requests) == 2


def test_concurrency_limit_is_respected(server: OpenAIServer) -> None:
    server.latency = 0.05
    traces = [agent_trace(f"t{i}") for i in range(12)]
    verdicts = asyncio.run(judge(server, concurrency=3).classify_many(traces))
    assert len(verdicts) == 12
    assert server.max_in_flight == 3


def test_budget_cap_stops_with_errors(server: OpenAIServer) -> None:
    # 10 prompt + 5 completion tokens at $1000 per million each = $0.015 per call
    the_judge = judge(server, concurrency=1, prices={"judge-model": Price(1000, 1000)}, budget=0.03)
    server.handler = lambda request: YES
    traces = [agent_trace(f"t{i}") for i in range(5)]
    verdicts = asyncio.run(the_judge.classify_many(traces))
    assert [v.outcome for v in verdicts] == [Outcome.PASS] * 2 + [Outcome.ERROR] * 3
    assert "budget" in verdicts[-1].reason
    assert verdicts[0].cost == 0.015
    assert the_judge.runtime.cost_total == 0.03
    assert len(server.completion_requests) == 2


def test_missing_model_is_an_error_verdict(server: OpenAIServer) -> None:
    verdict = judge(server, model=None).classify(agent_trace())
    assert verdict.outcome is Outcome.ERROR
    assert "--model" in verdict.reason
    assert server.completion_requests == []


def test_sync_classify_inside_a_running_loop(server: OpenAIServer) -> None:
    server.handler = lambda request: YES
    the_judge = judge(server)

    async def call_sync_from_async() -> str | None:
        return the_judge.classify(agent_trace()).label

    assert asyncio.run(call_sync_from_async()) == "yes"
    assert the_judge.classify(agent_trace("again")).label == "yes"  # the private loop is reused
    assert len(server.completion_requests) == 2
