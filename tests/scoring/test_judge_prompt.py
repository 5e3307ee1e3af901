from __future__ import annotations

import pytest

from agent_backtest.scoring.prompt import elide, render, trace_fields
from agent_backtest.trace.model import Span, SpanKind, ToolCall, Trace
from tests.support.traces import agent_trace


@pytest.mark.parametrize("limit", [40, 41, 100])
def test_elide_keeps_head_and_tail_within_limit(limit: int) -> None:
    text = "A" * 100 + "B" * 100
    out = elide(text, limit)
    assert len(out) <= limit
    assert out.startswith("A")
    assert out.endswith("B")
    removed = int(out.split("…[")[1].split(" chars")[0])
    assert len(out) - len(f"…[{removed} chars elided]…") + removed == 200


def test_short_text_is_untouched() -> None:
    assert elide("short", 10) == "short"


def test_fields_from_trace() -> None:
    fields = trace_fields(agent_trace(), "- yes\n- no", {})
    assert fields["input"] == "Refund order 42"
    assert fields["output"] == "Done"
    assert fields["tool_calls"] == '1. refund({"order": 42}) -> {"ok": true}'
    assert fields["messages"] == "system: be nice\nuser: Refund order 42\nassistant: Done"
    assert fields["trace_id"] == "t1"


def test_tool_errors_and_per_result_truncation() -> None:
    spans = [
        Span(
            span_id="a",
            kind=SpanKind.TOOL,
            name="search",
            start_ns=1,
            end_ns=2,
            tool=ToolCall(name="search", arguments={"q": "x"}, result="R" * 5000),
        ),
        Span(
            span_id="b",
            kind=SpanKind.TOOL,
            name="pay",
            start_ns=3,
            end_ns=4,
            tool=ToolCall(name="pay", arguments={}, error="card declined"),
        ),
    ]
    fields = trace_fields(Trace(trace_id="t", spans=spans), "", {"tool_result": 200})
    first, second = fields["tool_calls"].split("\n")
    assert "chars elided" in first
    assert len(first) < 300
    assert second == "2. pay({}) -> ERROR: card declined"


def test_render_is_single_pass() -> None:
    assert (
        render("{{ input }}|{{output}}", {"input": "{{output}}", "output": "o"}) == "{{output}}|o"
    )
