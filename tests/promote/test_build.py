from __future__ import annotations

import pytest

from agent_backtest.evalset.case import Case
from agent_backtest.promote.build import RejectedError, build_case, case_input, recordings
from agent_backtest.promote.modes import LabelMap
from agent_backtest.promote.redact import Redactor
from agent_backtest.trace.model import Span, SpanKind, SpanStatus, StatusCode, ToolCall, Trace
from tests.promote.factory import T0, make_trace

REDACTOR = Redactor(b"test-key")


def _build(trace: Trace) -> Case:
    return build_case(trace, label_map=LabelMap(), redactor=REDACTOR).case


def test_case_from_an_annotated_trace() -> None:
    case = build_case(make_trace(), label_map=LabelMap(), redactor=REDACTOR).case
    assert case.id.startswith("step-repetition-on-lookup-order-x3-")
    assert case.failure_modes == ["step_repetition"]
    assert case.expect.not_detected == ["step_repetition"]
    assert case.expect.budgets.max_llm_calls is None
    assert [m.role for m in case.input.messages] == ["system", "user"]
    assert [(r.seq, r.tool, r.call_id) for r in case.recordings] == [
        (0, "lookup_order", "call_0"),
        (1, "lookup_order", "call_1"),
        (2, "lookup_order", "call_2"),
    ]
    assert case.recordings[0].latency_ms == 120.0
    assert case.source.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert case.source.captured_at == "2025-04-30T08:00:00Z"
    assert case.annotations[0].label == "step_repetition"
    assert case.redaction is not None
    assert case.redaction.policy == "builtin@1"
    assert case.fingerprint is not None
    assert case.fingerprint.startswith("fp1:")


def test_input_falls_back_to_the_root_agent_span() -> None:
    trace = make_trace()
    trace.spans = [s for s in trace.spans if s.kind is not SpanKind.LLM]
    trace.invalidate()
    assert [(m.role, m.content) for m in case_input(trace).messages] == [
        ("user", "Where is my order 1234? It never arrived.")
    ]
    trace.spans[0].input = {"messages": [{"role": "user", "content": "hi"}], "tier": "gold"}
    given = case_input(trace)
    assert given.messages[0].content == "hi"
    assert given.state == {"tier": "gold"}
    trace.spans[0].input = {"question": "refund?"}
    assert case_input(trace).state == {"question": "refund?"}


def test_tool_errors_and_production_order() -> None:
    trace = make_trace(tools=("a", "b"))
    tools = [s for s in trace.spans if s.kind is SpanKind.TOOL]
    tools[0].start_ns, tools[1].start_ns = tools[1].start_ns, tools[0].start_ns
    tools[0].tool = ToolCall(name="a", error="timeout after 30s")
    trace.spans.append(
        Span(
            span_id="f" * 16,
            kind=SpanKind.TOOL,
            name="c",
            start_ns=T0 + 9 * 10**9,
            end_ns=T0 + 9 * 10**9 + 5_000_000,
            status=SpanStatus(code=StatusCode.ERROR, message="500"),
            input={"q": 1},
        )
    )
    recorded = recordings(trace)
    assert [(r.tool, r.error) for r in recorded] == [
        ("b", None),
        ("a", "timeout after 30s"),
        ("c", "500"),
    ]
    assert recorded[2].arguments == {"q": 1}
    assert recorded[2].result is None


def test_rejections_say_why() -> None:
    with pytest.raises(RejectedError, match=r"no failure mode \(annotations failure_mode=looped"):
        _build(make_trace(label="looped"))
    with pytest.raises(RejectedError, match=r"no failure mode \(no annotations"):
        _build(make_trace(label=None))
    bare = make_trace(tools=())
    bare.spans = [s for s in bare.spans if s.kind is SpanKind.AGENT]
    bare.spans[0].input = None
    bare.invalidate()
    with pytest.raises(RejectedError, match="no TOOL spans and no input"):
        _build(bare)


def test_equivalent_traces_share_a_fingerprint_and_id() -> None:
    one = _build(make_trace("a" * 32, user="I am jane@acme.test, where is 1234?"))
    two = _build(make_trace("b" * 32, user="I am  bob@other.test,\nwhere is 1234?"))
    three = _build(make_trace("c" * 32, tools=("lookup_order",)))
    assert one.fingerprint == two.fingerprint
    assert one.id == two.id
    assert one.fingerprint != three.fingerprint
