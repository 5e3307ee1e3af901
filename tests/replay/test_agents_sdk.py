"""OpenAI Agents SDK function tools: record against a real local server once, replay with none.

(The plain OpenAI tool-calling loop is covered by test_runner.py's support bot.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agents import set_trace_processors
from agents.tracing import Span, Trace, TracingProcessor
from agents.tracing.processors import default_processor

from agent_backtest.config import Settings
from agent_backtest.evalset.case import Case, CaseInput, CaseMessage, CaseSource, ToolRecording
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.replay.runner import run_case
from agent_backtest.trace.model import SpanKind
from tests.fixtures.plugin.script import support_server_handler
from tests.support.openai_server import OpenAIServer

AGENT = "tests.replay.agents_sdk_bot:run"


class _Seen(TracingProcessor):
    """Stands in for the SDK's exporter: anything reaching it would have been exported."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def on_trace_start(self, trace: Trace) -> None:
        self.events.append(f"trace {trace.name}")

    def on_trace_end(self, trace: Trace) -> None:
        pass

    def on_span_start(self, span: Span[Any]) -> None:
        self.events.append("span")

    def on_span_end(self, span: Span[Any]) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


@pytest.fixture
def exporter() -> Iterator[_Seen]:
    seen = _Seen()
    set_trace_processors([seen])  # no network exporter, whatever the agent does
    yield seen
    set_trace_processors([default_processor()])


def _case() -> Case:
    return Case(
        id="where-a1",
        title="where is A1",
        source=CaseSource(trace_id="t"),
        input=CaseInput(messages=[CaseMessage(role="user", content="Where is order A1?")]),
        recordings=[
            ToolRecording(
                seq=0,
                tool="lookup_order",
                arguments={"order_id": "A1"},
                result={"status": "shipped"},
            )
        ],
    )


def _spans(result: CaseResult) -> list[tuple[SpanKind, str | None]]:
    trace = result.runs[0].trace
    assert trace is not None
    return [
        (s.kind, s.attributes.get("agent_backtest.replay.tier"))
        for s in trace.spans
        if s.kind in (SpanKind.TOOL, SpanKind.LLM)
    ]


def test_an_agents_sdk_function_tool_records_then_replays_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exporter: _Seen
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.delenv("BACKTEST_REDACTION_KEY", raising=False)
    config = EvalSetConfig(name="support")
    with OpenAIServer(handler=support_server_handler) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        recorded = run_case(
            _case(), config, Settings(llm_mode="record"), root=tmp_path, agent=AGENT
        )
        assert len(server.completion_requests) == 2
    assert recorded.outcome is CaseOutcome.PASSED, recorded.render()
    assert len(list((tmp_path / "llm" / "where-a1").rglob("*.json"))) == 2

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the server is gone
    replayed = run_case(_case(), config, Settings(), root=tmp_path, agent=AGENT)
    assert replayed.outcome is CaseOutcome.PASSED, replayed.render()
    assert replayed.runs[0].output == "Your order has shipped."
    # LLM, the tool answered from its recording (the real one raises), LLM again.
    assert _spans(replayed) == [
        (SpanKind.LLM, None),
        (SpanKind.TOOL, "exact"),
        (SpanKind.LLM, None),
    ]
    trace = replayed.runs[0].trace
    assert trace is not None
    (tool_span,) = trace.spans_of_kind(SpanKind.TOOL)
    assert tool_span.tool is not None
    assert (tool_span.tool.arguments, tool_span.tool.result) == (
        {"order_id": "A1"},
        {"status": "shipped"},
    )
    assert exporter.events == []  # the SDK's tracing was off, not blocked by us
