"""Build realistic annotated traces as ``Trace`` objects for promote tests."""

from __future__ import annotations

from pathlib import Path

from agent_backtest.trace.model import (
    Annotation,
    AnnotationTarget,
    LLMCall,
    Message,
    Span,
    SpanKind,
    ToolCall,
    Trace,
)
from agent_backtest.trace.writers import write_normalized_jsonl

T0 = 1_746_000_000_000_000_000  # 2025-04-30T08:00:00Z in ns


def make_trace(
    trace_id: str = "4bf92f3577b34da6a3ce929d0e0e4736",
    *,
    user: str = "Where is my order 1234? It never arrived.",
    tools: tuple[str, ...] = ("lookup_order", "lookup_order", "lookup_order"),
    arguments: object = None,
    result: object = None,
    label: str | None = "step_repetition",
    annotation_name: str = "failure_mode",
    session_id: str | None = "sess-1",
    start_ns: int = T0,
    extra_annotations: tuple[Annotation, ...] = (),
) -> Trace:
    """1 AGENT span, one LLM span per tool call plus a final one, and the TOOL spans."""
    spans: list[Span] = [
        Span(
            span_id="a" * 16,
            kind=SpanKind.AGENT,
            name="support_agent",
            start_ns=start_ns,
            end_ns=start_ns + 10_000_000_000,
            input=user,
        )
    ]
    messages = [
        Message(role="system", content="You are a support agent for ACME."),
        Message(role="user", content=user),
    ]
    clock = start_ns + 1_000_000
    for index, tool in enumerate((*tools, None)):
        spans.append(
            Span(
                span_id=f"{index + 1:016x}",
                parent_id="a" * 16,
                kind=SpanKind.LLM,
                name="chat",
                start_ns=clock,
                end_ns=clock + 400_000_000,
                llm=LLMCall(model="gpt-4o-mini", input_messages=list(messages)),
            )
        )
        clock += 500_000_000
        if tool is None:
            break
        spans.append(
            Span(
                span_id=f"{index + 100:016x}",
                parent_id="a" * 16,
                kind=SpanKind.TOOL,
                name=tool,
                start_ns=clock,
                end_ns=clock + 120_000_000,
                tool=ToolCall(
                    name=tool,
                    call_id=f"call_{index}",
                    arguments=arguments if arguments is not None else {"order_id": "1234"},
                    result=result if result is not None else {"status": "in_transit"},
                ),
            )
        )
        messages.append(Message(role="tool", content="in transit", tool_call_id=f"call_{index}"))
        clock += 200_000_000
    annotations = (
        [
            Annotation(
                target=AnnotationTarget(kind="trace", trace_id=trace_id),
                name=annotation_name,
                label=label,
                annotator="oncall@acme.test",
            )
        ]
        if label is not None
        else []
    )
    annotations.extend(extra_annotations)
    return Trace(
        trace_id=trace_id,
        session_id=session_id,
        agent_name="support_agent",
        start_ns=start_ns,
        end_ns=start_ns + 10_000_000_000,
        spans=spans,
        annotations=annotations,
    )


def write_traces(path: Path, *traces: Trace) -> Path:
    write_normalized_jsonl(traces, path)
    return path
