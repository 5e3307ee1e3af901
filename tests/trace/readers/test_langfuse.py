"""Langfuse exports through the public API: trace detail, JSONL, list pages, blob rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_backtest.errors import InputError
from agent_backtest.trace.api import TraceStream, read_traces
from agent_backtest.trace.model import AnnotatorKind, Span, SpanKind, StatusCode, Trace
from agent_backtest.trace.readers.timestamps import iso_to_ns, to_ns
from agent_backtest.trace.registry import detect_format

FIXTURES = Path(__file__).parents[2] / "fixtures" / "traces" / "langfuse"
DETAIL = FIXTURES / "trace_detail.json"
JSONL = FIXTURES / "traces.jsonl"
OBSERVATIONS = FIXTURES / "observations_page.json"
SCORES = FIXTURES / "scores_page.json"
T1 = "a3f1c9e2b4d6478899aabbccddeeff01"


def _span(trace: Trace, span_id: str) -> Span:
    span = trace.span(span_id)
    assert span is not None, f"no span {span_id}"
    return span


@pytest.mark.parametrize("path", [DETAIL, JSONL, OBSERVATIONS, SCORES], ids=lambda p: p.name)
def test_every_fixture_is_detected_as_langfuse(path: Path) -> None:
    assert detect_format(path) == "langfuse"


def test_trace_detail_builds_a_root_from_the_trace_and_hangs_observations_under_it() -> None:
    [trace] = read_traces(DETAIL)
    assert trace.trace_id == "cm8a1x2yz0001qv08abcd1234"  # a cuid stays as Langfuse shows it
    assert trace.session_id == "chat-5f1c"
    assert [s.name for _, s in trace.walk()] == [
        "support-agent",
        "plan",
        "get_order_status",
        "answer",
    ]
    [root] = trace.roots
    assert (root.kind, root.span_id) == (SpanKind.AGENT, trace.trace_id)
    assert root.input == {"question": "Where is my order 1042?"}
    assert all(
        _span(trace, i).parent_id == root.span_id for i in ("obs-gen-1", "obs-tool-1", "obs-gen-2")
    )
    # Exact microseconds from the ISO strings: no float on the way.
    assert root.start_ns == 1_741_944_413_589_000_000
    plan = _span(trace, "obs-gen-1")
    assert (plan.start_ns, plan.end_ns) == (1_741_944_413_601_234_000, 1_741_944_415_015_678_000)
    assert trace.end_ns == 1_741_944_417_710_500_000


def test_generation_becomes_llm_with_model_messages_usage_cost_and_tool_call() -> None:
    [trace] = read_traces(DETAIL)
    plan = _span(trace, "obs-gen-1")
    assert plan.kind is SpanKind.LLM
    assert plan.llm is not None
    assert plan.llm.model == "gpt-4o-2024-08-06"
    assert [m.role for m in plan.llm.input_messages] == ["system", "user"]
    assert (plan.llm.usage.input, plan.llm.usage.output, plan.llm.usage.total) == (120, 18, 138)
    assert plan.llm.cost == pytest.approx(0.00048)
    [call] = plan.llm.tool_calls
    assert (call.id, call.name) == ("call_Xk2f9", "get_order_status")
    assert call.arguments_raw == '{"order_id": "1042"}'
    assert call.arguments == {"order_id": "1042"}
    answer = _span(trace, "obs-gen-2")
    assert answer.llm is not None
    # Langfuse keeps cached tokens out of "input"; the normalized count is the whole prompt.
    assert (answer.llm.usage.input, answer.llm.usage.cache_read) == (158 + 128, 128)
    # costDetails has no "total" key here: its parts are summed.
    assert answer.llm.cost == pytest.approx(0.000395 + 0.00016 + 0.00016)
    assert answer.llm.input_messages[3].tool_call_id == "call_Xk2f9"
    assert trace.metrics.tool_calls_by_name == {"get_order_status": 1}
    assert trace.metrics.prompt_tokens_per_step == [120, 286]


def test_tool_observation_becomes_tool_with_arguments_and_result() -> None:
    [trace] = read_traces(DETAIL)
    tool = _span(trace, "obs-tool-1")
    assert tool.kind is SpanKind.TOOL
    assert tool.tool is not None
    assert (tool.tool.name, tool.tool.call_id) == ("get_order_status", "call_Xk2f9")
    assert tool.tool.arguments == {"order_id": "1042"}
    assert tool.tool.result == {
        "status": "shipped",
        "shipped_at": "2025-03-12",
        "eta": "2025-03-15",
    }
    assert tool.tool.error is None


def test_scores_become_annotations_with_the_annotator_kind_of_their_source() -> None:
    [trace] = read_traces(DETAIL)
    by_name = {a.name: a for a in trace.annotations}
    assert set(by_name) == {"failure_mode", "faithfulness", "resolved"}
    human = by_name["failure_mode"]  # ANNOTATION, CATEGORICAL without a config
    assert (human.annotator_kind, human.label, human.score) == (
        AnnotatorKind.HUMAN,
        "hallucinated_tool_input",
        None,
    )
    assert (human.target.kind, human.target.trace_id, human.annotator) == (
        "trace",
        trace.trace_id,
        "reviewer-ana",
    )
    judge = by_name["faithfulness"]  # EVAL, NUMERIC, on one observation
    assert (judge.annotator_kind, judge.score, judge.label) == (AnnotatorKind.LLM, 0.25, None)
    assert (judge.target.kind, judge.target.span_id) == ("span", "obs-gen-2")
    assert judge.explanation is not None
    assert "not supported" in judge.explanation
    code = by_name["resolved"]  # API, BOOLEAN
    assert (code.annotator_kind, code.label, code.score) == (AnnotatorKind.CODE, "False", 0.0)


def test_jsonl_of_trace_details_uses_the_root_observation_and_marks_tool_errors() -> None:
    traces = {t.trace_id: t for t in read_traces(JSONL)}
    assert set(traces) == {T1, "a3f1c9e2b4d6478899aabbccddeeff02"}
    first = traces[T1]
    [root] = first.roots
    # One parentless AGENT observation: it is the root, no synthetic span is added.
    assert (root.span_id, root.kind) == ("1a2b3c4d5e6f7081", SpanKind.AGENT)
    assert len(first.spans) == 4
    assert first.span(T1) is None
    tool = _span(first, "1a2b3c4d5e6f7083")
    assert tool.status.code is StatusCode.ERROR
    assert tool.status.message == "HTTP 409: room already booked"
    assert tool.tool is not None
    assert tool.tool.error == "HTTP 409: room already booked"
    # A string input is kept byte for byte as the raw arguments.
    assert tool.tool.arguments_raw == '{"room": "Atlas", "start": "2025-06-03T15:00"}'
    assert first.metrics.error_spans == 1
    [label] = first.annotations
    assert (label.name, label.label, label.target.span_id) == (
        "silent_tool_failure",
        "True",
        "1a2b3c4d5e6f7083",
    )
    second = traces["a3f1c9e2b4d6478899aabbccddeeff02"]
    # Only a GENERATION at the top: the trace itself becomes the AGENT root.
    assert [(s.kind, s.parent_id) for _, s in second.walk()] == [
        (SpanKind.AGENT, None),
        (SpanKind.LLM, second.trace_id),
    ]
    llm = second.spans_of_kind(SpanKind.LLM)[0].llm
    assert llm is not None
    # Legacy "usage" is used when usageDetails is empty.
    assert (llm.usage.input, llm.usage.output, llm.usage.total) == (12, 7, 19)
    assert [m.content for m in llm.output_messages] == ["Atlas and Birch are free."]
    assert first.session_id == second.session_id == "chat-77aa"


@pytest.mark.parametrize("order", [(OBSERVATIONS, SCORES), (SCORES, OBSERVATIONS)])
def test_list_pages_of_observations_and_scores_join_by_trace_id(order: tuple[Path, Path]) -> None:
    [trace] = read_traces(order)
    assert trace.trace_id == T1
    assert len(trace.spans) == 4
    assert len(trace.roots) == 1
    by_name = {a.name: a for a in trace.annotations}
    assert by_name["outcome"].annotator_kind is AnnotatorKind.HUMAN
    assert by_name["outcome"].label == "failed_booking"
    assert (by_name["helpfulness"].score, by_name["helpfulness"].target.span_id) == (
        2.0,
        "1a2b3c4d5e6f7084",
    )


def test_blob_storage_rows_in_snake_case(tmp_path: Path) -> None:
    rows = [
        {
            "id": "9f8e7d6c5b4a3921",
            "trace_id": T1,
            "type": "GENERATION",
            "name": "llm",
            "start_time": "2024-05-29 13:46:19.963000",
            "end_time": "2024-05-29 13:46:21.000123",
            "parent_observation_id": None,
            "provided_model_name": "claude-sonnet-4-20250514",
            "input": json.dumps([{"role": "user", "content": "hi"}]),
            "output": "hello",
            "usage_details": {"input": 10, "cache_read_input_tokens": 90, "output": 3},
            "level": "DEFAULT",
        },
        {
            "id": "s9",
            "trace_id": T1,
            "observation_id": None,
            "name": "toxicity",
            "value": 0.0,
            "data_type": "NUMERIC",
            "source": "EVAL",
        },
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    [trace] = read_traces(path)
    span = _span(trace, "9f8e7d6c5b4a3921")
    assert (span.start_ns, span.end_ns) == (1_716_990_379_963_000_000, 1_716_990_381_000_123_000)
    assert span.llm is not None
    assert span.llm.model == "claude-sonnet-4-20250514"
    assert (span.llm.usage.input, span.llm.usage.cache_read) == (100, 90)
    assert [m.content for m in span.llm.input_messages] == ["hi"]
    assert [a.annotator_kind for a in trace.annotations] == [AnnotatorKind.LLM]


def _bad_jsonl(tmp_path: Path) -> Path:
    good = JSONL.read_text().splitlines()
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([good[0], '{"id": "truncated", "timestamp": "2025-', good[1]]) + "\n")
    return path


def test_a_truncated_line_names_file_and_line(tmp_path: Path) -> None:
    path = _bad_jsonl(tmp_path)
    with pytest.raises(InputError) as info:
        read_traces(path, format="langfuse")
    assert info.value.where.path == path
    assert info.value.where.line == 2
    assert "invalid JSON" in info.value.what


def test_skip_invalid_goes_on_and_counts_the_skipped_line(tmp_path: Path) -> None:
    stream = TraceStream([_bad_jsonl(tmp_path)], format="langfuse")
    stream.options.skip_invalid = True
    assert len(list(stream)) == 2
    assert stream.reports[0].skipped.count == 1


def test_a_bad_timestamp_names_line_and_field(tmp_path: Path) -> None:
    record = json.loads(JSONL.read_text().splitlines()[0])
    record["observations"][1]["startTime"] = "yesterday"
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(InputError) as info:
        read_traces(path)
    assert (info.value.where.line, info.value.where.field) == (1, "startTime")
    assert "yesterday" in info.value.what


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:26:53.589Z", 1_741_944_413_589_000_000),
        ("2025-03-14T10:26:53.589123+01:00", 1_741_944_413_589_123_000),
        ("2025-03-14 09:26:53.589123456", 1_741_944_413_589_123_456),
        ("2025-03-14T09:26:53Z", 1_741_944_413_000_000_000),
    ],
)
def test_iso_timestamps_convert_exactly(text: str, expected: int) -> None:
    assert iso_to_ns(text) == expected


def test_epoch_numbers_are_read_by_magnitude() -> None:
    assert to_ns(1_741_944_413_589) == 1_741_944_413_589_000_000  # pandas' epoch ms
    assert to_ns(1_741_944_413_589_123) == 1_741_944_413_589_123_000  # µs
    assert to_ns(1_741_944_413) == 1_741_944_413_000_000_000  # s
