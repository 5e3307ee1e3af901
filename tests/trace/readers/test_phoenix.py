"""Phoenix spans dataframe (Parquet, JSONL) and span annotations, through the public API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_backtest.errors import InputError
from agent_backtest.trace.api import TraceStream, read_traces
from agent_backtest.trace.model import AnnotatorKind, Span, SpanKind, StatusCode, Trace
from agent_backtest.trace.registry import detect_format

FIXTURES = Path(__file__).parents[2] / "fixtures"
PARQUET = FIXTURES / "traces" / "phoenix" / "spans.parquet"
JSONL = FIXTURES / "traces" / "phoenix" / "spans.jsonl"
ANNOTATIONS_PARQUET = FIXTURES / "annotations" / "phoenix_annotations.parquet"
ANNOTATIONS_REST = FIXTURES / "annotations" / "phoenix_span_annotations.json"
TRACE_A = "6c0e2d1f9a8b47c3b2e1d0f9a8b7c6d5"
TRACE_B = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
ROOT, LLM1, TOOL, LLM2, FAILED = (
    "a1b2c3d4e5f60718",
    "b2c3d4e5f6071829",
    "c3d4e5f607182930",
    "d4e5f60718293a4b",
    "e5f60718293a4b5c",
)


def _by_id(path: Path) -> dict[str, Trace]:
    return {t.trace_id: t for t in read_traces(path)}


def _span(trace: Trace, span_id: str) -> Span:
    span = trace.span(span_id)
    assert span is not None, f"no span {span_id}"
    return span


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (PARQUET, "phoenix"),
        (JSONL, "phoenix"),
        (ANNOTATIONS_PARQUET, "phoenix_annotations"),
        (ANNOTATIONS_REST, "phoenix_annotations"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_detected_by_content_and_columns(path: Path, expected: str) -> None:
    assert detect_format(path) == expected


@pytest.mark.parametrize("path", [PARQUET, JSONL], ids=["parquet", "jsonl"])
def test_spans_form_the_agent_tree(path: Path) -> None:
    traces = _by_id(path)
    assert set(traces) == {TRACE_A, TRACE_B}
    trace = traces[TRACE_A]
    assert [(s.kind, s.span_id, s.parent_id) for _, s in trace.walk()] == [
        (SpanKind.AGENT, ROOT, None),
        (SpanKind.LLM, LLM1, ROOT),
        (SpanKind.TOOL, TOOL, ROOT),
        (SpanKind.LLM, LLM2, ROOT),
    ]
    assert trace.session_id == "sess-42"
    assert trace.metrics.llm_calls == 2
    assert trace.metrics.tool_calls_by_name == {"search_flights": 1}
    # Token counts arrive as float64 (the column has gaps) and come back as ints.
    assert trace.metrics.prompt_tokens_per_step == [210, 298]
    assert isinstance(trace.metrics.prompt_tokens_per_step[0], int)


def test_parquet_timestamps_keep_microseconds() -> None:
    trace = _by_id(PARQUET)[TRACE_A]
    root = _span(trace, ROOT)
    assert (root.start_ns, root.end_ns) == (1_747_749_731_123_456_000, 1_747_749_735_654_321_000)
    assert _span(trace, LLM1).start_ns == 1_747_749_731_200_001_000


def test_jsonl_epoch_milliseconds_convert_exactly() -> None:
    # df.to_json() writes epoch ms: the microseconds were lost by pandas, not by us.
    trace = _by_id(JSONL)[TRACE_A]
    root = _span(trace, ROOT)
    assert (root.start_ns, root.end_ns) == (1_747_749_731_123_000_000, 1_747_749_735_654_000_000)


@pytest.mark.parametrize("path", [PARQUET, JSONL], ids=["parquet", "jsonl"])
def test_unflattened_attributes_are_flattened_back_to_openinference_keys(path: Path) -> None:
    trace = _by_id(path)[TRACE_A]
    llm = _span(trace, LLM1)
    assert llm.attributes["llm.input_messages.0.message.role"] == "system"
    assert (
        llm.attributes["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"]
        == "search_flights"
    )
    root = _span(trace, ROOT)
    assert root.attributes["deployment.region"] == "eu-west-1"  # a custom nested attribute
    # OpenInference says metadata is a JSON string; Phoenix had parsed it into an object.
    assert json.loads(root.attributes["metadata"]) == {"user_tier": "gold"}
    assert "llm.model_name" not in root.attributes  # null cells are not attributes


@pytest.mark.parametrize("path", [PARQUET, JSONL], ids=["parquet", "jsonl"])
def test_llm_and_tool_spans_decode(path: Path) -> None:
    trace = _by_id(path)[TRACE_A]
    llm = _span(trace, LLM1).llm
    assert llm is not None
    assert llm.model == "gpt-4o-2024-08-06"
    assert (llm.usage.input, llm.usage.output, llm.usage.total) == (210, 31, 241)
    [call] = llm.tool_calls
    assert (call.id, call.name) == ("call_f1", "search_flights")
    assert call.arguments == {"origin": "LHR", "destination": "JFK", "date": "2025-06-03"}
    second = _span(trace, LLM2).llm
    assert second is not None
    assert [m.role for m in second.input_messages] == ["system", "user", "assistant", "tool"]
    tool = _span(trace, TOOL).tool
    assert tool is not None
    assert tool.name == "search_flights"
    assert tool.arguments == {"origin": "LHR", "destination": "JFK", "date": "2025-06-03"}


@pytest.mark.parametrize("path", [PARQUET, JSONL], ids=["parquet", "jsonl"])
def test_error_status_message_and_exception_event(path: Path) -> None:
    failed = _span(_by_id(path)[TRACE_B], FAILED)
    assert failed.status.code is StatusCode.ERROR
    assert failed.status.message == "RateLimitError: Error code: 429"
    [event] = failed.events
    assert event.name == "exception"
    assert event.time_ns == 1_747_749_900_740_000_000
    assert event.attributes["exception.type"] == "openai.RateLimitError"
    ok = _span(_by_id(path)[TRACE_A], ROOT)
    assert ok.status.code is StatusCode.OK
    assert ok.status.message is None  # Phoenix writes "" for no message


def test_span_annotations_attach_to_their_spans_from_parquet_and_rest() -> None:
    stream = TraceStream([PARQUET, ANNOTATIONS_PARQUET, ANNOTATIONS_REST])
    traces = {t.trace_id: t for t in stream}
    assert stream.unattached_annotations == []
    labels = {(a.target.span_id, a.name): a for a in traces[TRACE_A].annotations}
    human = labels[(TOOL, "failure_mode")]
    assert (human.annotator_kind, human.label, human.score) == (
        AnnotatorKind.HUMAN,
        "hallucinated_tool_input",
        None,
    )
    assert human.annotator == "VXNlcjoy"
    assert human.target.trace_id == TRACE_A  # filled in once the span's trace is known
    judge = labels[(LLM2, "correctness")]
    assert (judge.annotator_kind, judge.label, judge.score) == (AnnotatorKind.LLM, "correct", 1.0)
    assert judge.explanation == "Matches the tool result."
    [code] = traces[TRACE_B].annotations
    assert (code.annotator_kind, code.name, code.label, code.score) == (
        AnnotatorKind.CODE,
        "retry_policy",
        "no_retry",
        0.0,
    )


def test_annotation_rows_as_jsonl_with_flattened_result_columns(tmp_path: Path) -> None:
    path = tmp_path / "annotations.jsonl"
    row = {
        "span_id": FAILED,
        "annotation_name": "hallucination",
        "annotator_kind": "LLM",
        "result.label": "factual",
        "result.score": None,
        "result.explanation": None,
    }
    path.write_text(json.dumps(row) + "\n")
    assert detect_format(path) == "phoenix_annotations"
    [trace] = [t for t in read_traces([JSONL, path]) if t.trace_id == TRACE_B]
    [annotation] = trace.annotations
    assert (annotation.name, annotation.label, annotation.score) == (
        "hallucination",
        "factual",
        None,
    )


def test_a_row_without_trace_id_names_file_line_and_column(tmp_path: Path) -> None:
    lines = JSONL.read_text().splitlines()
    broken = json.loads(lines[2])
    broken["context.trace_id"] = None
    path = tmp_path / "spans.jsonl"
    path.write_text("\n".join([lines[0], lines[1], json.dumps(broken), *lines[3:]]) + "\n")
    with pytest.raises(InputError) as info:
        read_traces(path)
    assert info.value.where.path == path
    assert (info.value.where.line, info.value.where.field) == (3, "context.trace_id")
    stream = TraceStream([path])
    stream.options.skip_invalid = True
    assert sum(len(t.spans) for t in stream) == 4
    assert stream.reports[0].skipped.count == 1


def test_a_truncated_parquet_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "spans.parquet"
    path.write_bytes(PARQUET.read_bytes()[:2000])
    with pytest.raises(InputError) as info:
        read_traces(path, format="phoenix")
    assert info.value.where.path == path
    assert "Parquet" in info.value.what
