"""Small hand-built traces for scoring tests."""

from __future__ import annotations

from agent_backtest.trace.model import LLMCall, Message, Span, SpanKind, ToolCall, Trace


def agent_trace(
    trace_id: str = "t1", question: str = "Refund order 42", answer: str = "Done"
) -> Trace:
    """An agent run: root AGENT span, one LLM call, one tool call, a final answer."""
    spans = [
        Span(
            span_id="root",
            kind=SpanKind.AGENT,
            name="agent",
            start_ns=0,
            end_ns=100,
            input=question,
            output=answer,
        ),
        Span(
            span_id="llm1",
            parent_id="root",
            kind=SpanKind.LLM,
            name="chat",
            start_ns=10,
            end_ns=20,
            llm=LLMCall(
                model="m",
                input_messages=[
                    Message(role="system", content="be nice"),
                    Message(role="user", content=question),
                ],
                output_messages=[Message(role="assistant", content=answer)],
            ),
        ),
        Span(
            span_id="tool1",
            parent_id="root",
            kind=SpanKind.TOOL,
            name="refund",
            start_ns=30,
            end_ns=40,
            tool=ToolCall(name="refund", arguments={"order": 42}, result={"ok": True}),
        ),
    ]
    return Trace(trace_id=trace_id, start_ns=0, end_ns=100, spans=spans)
