from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest import InputError, read_traces
from agent_backtest.trace.model import (
    Annotation,
    AnnotationTarget,
    LLMCall,
    Message,
    Span,
    SpanKind,
    TokenUsage,
    ToolCall,
    ToolCallRequest,
    Trace,
)
from agent_backtest.trace.registry import detect_format
from agent_backtest.trace.writers import write_normalized_jsonl


def sample_trace() -> Trace:
    call = ToolCallRequest(
        id="call_1",
        name="lookup_order",
        arguments_raw='{"order_id": "1843"}',
        arguments={"order_id": "1843"},
    )
    return Trace(
        trace_id="0af7651916cd43dd8448eb211c80319c",
        session_id="s-1",
        agent_name="support",
        start_ns=1_760_000_000_000_000_001,
        end_ns=1_760_000_000_900_000_002,
        spans=[
            Span(
                span_id="a" * 16,
                kind=SpanKind.AGENT,
                name="agent",
                start_ns=1_760_000_000_000_000_001,
                end_ns=1_760_000_000_900_000_002,
                input="where is 1843?",
            ),
            Span(
                span_id="b" * 16,
                parent_id="a" * 16,
                kind=SpanKind.LLM,
                name="chat",
                start_ns=1_760_000_000_100_000_000,
                end_ns=1_760_000_000_200_000_000,
                llm=LLMCall(
                    model="gpt-4o",
                    input_messages=[Message(role="user", content="where is 1843?")],
                    output_messages=[Message(role="assistant", tool_calls=[call])],
                    tool_calls=[call],
                    usage=TokenUsage(input=12, output=5, total=17),
                    finish_reasons=["tool_calls"],
                    cost=0.0001,
                ),
                attributes={"llm.model_name": "gpt-4o", "big": 2**63 - 1},
            ),
            Span(
                span_id="c" * 16,
                parent_id="a" * 16,
                kind=SpanKind.TOOL,
                name="lookup_order",
                start_ns=1_760_000_000_300_000_000,
                end_ns=1_760_000_000_400_000_000,
                tool=ToolCall(
                    name="lookup_order",
                    call_id="call_1",
                    arguments={"order_id": "1843"},
                    result={"status": "shipped"},
                ),
            ),
        ],
        annotations=[
            Annotation(
                target=AnnotationTarget(trace_id="0af7651916cd43dd8448eb211c80319c"),
                name="failure_mode",
                label="step_repetition",
            )
        ],
    )


def test_normalized_jsonl_round_trips_exactly(tmp_path: Path) -> None:
    original = sample_trace()
    path = tmp_path / "out.jsonl"
    write_normalized_jsonl([original], path)
    assert detect_format(path) == "normalized"
    (again,) = read_traces(path)
    assert again == original
    assert again.spans[1].attributes["big"] == 2**63 - 1
    second = tmp_path / "again.jsonl"
    write_normalized_jsonl([again], second)
    assert second.read_bytes() == path.read_bytes()


def test_normalized_line_with_unknown_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    write_normalized_jsonl([sample_trace()], path)
    path.write_text(path.read_text() + path.read_text().replace('"session_id"', '"sesion_id"'))
    with pytest.raises(InputError) as info:
        read_traces(path)
    message = str(info.value)
    assert f"{path}:2" in message
    assert "sesion_id" in message
    assert len(read_traces(path, skip_invalid=True)) == 1


def test_sidecar_labels_attach_to_normalized_traces(tmp_path: Path) -> None:
    traces = tmp_path / "traces.jsonl"
    trace = sample_trace()
    trace.annotations = []
    write_normalized_jsonl([trace], traces)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        '{"trace_id": "0af7651916cd43dd8448eb211c80319c", "name": "failure_mode", "label": "step_repetition", "annotator": "ana"}\n'
        '{"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "cccccccccccccccc", "name": "correct", "score": 0}\n'
    )
    (again,) = read_traces([traces, labels])
    assert [(a.name, a.label, a.target.span_id) for a in again.annotations] == [
        ("failure_mode", "step_repetition", None),
        ("correct", None, "cccccccccccccccc"),
    ]


def test_a_huge_first_trace_is_still_detected_and_files_are_not_private(tmp_path: Path) -> None:
    trace = sample_trace()
    trace.spans[2].tool.result = {"blob": "x" * 200_000}  # type: ignore[union-attr]
    path = tmp_path / "big.jsonl"
    write_normalized_jsonl([trace], path)
    assert detect_format(path) == "normalized"
    assert path.stat().st_mode & 0o044 == 0o044  # group/other may read, like any new file
