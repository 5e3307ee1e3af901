from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agent_backtest import InputError, StatusCode, Trace, read_traces
from agent_backtest.trace.api import TraceStream
from agent_backtest.trace.raw import RawSpan
from agent_backtest.trace.registry import detect_format, get_reader
from agent_backtest.trace.source import FileSource, ReadOptions

FIXTURES = Path(__file__).parents[2] / "fixtures" / "traces"
OTLP = FIXTURES / "otlp"
TEMPO = FIXTURES / "third_party" / "agentevals" / "tempo_export_with_batches.json"

TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "5b8efff798038103d269b633813fc60c"  # written as base64 in the fixture


def _raw_spans(path: Path) -> dict[str, RawSpan]:
    """Container-level fields (otel kind, resource, scope) the normalized Span does not keep."""
    items = get_reader("otlp_json").read(FileSource(path))
    return {item.span.span_id: item.span for item in items if item.span is not None}


def _by_id(traces: list[Trace]) -> dict[str, Trace]:
    return {trace.trace_id: trace for trace in traces}


@pytest.mark.parametrize(
    "path",
    [OTLP / "collector.jsonl", OTLP / "legacy_pretty.json", TEMPO],
    ids=["collector-jsonl", "legacy-pretty", "tempo"],
)
def test_detected_by_content(path: Path) -> None:
    assert detect_format(path) == "otlp_json"


def test_collector_jsonl_traces_spans_and_parent_links() -> None:
    traces = _by_id(read_traces(OTLP / "collector.jsonl"))
    assert sorted(traces) == [TRACE_A, TRACE_B]

    a = traces[TRACE_A]
    # The tool span arrives on line 2 with upper-case ids; it still joins trace A.
    assert [(s.span_id, s.parent_id) for s in a.spans] == [
        ("00f067aa0ba902b7", None),
        ("a1b2c3d4e5f60718", "00f067aa0ba902b7"),
        ("b7ad6b7169203331", "00f067aa0ba902b7"),
    ]
    root, llm, tool = a.spans
    assert (root.start_ns, root.end_ns) == (1700000000000000000, 1700000005000000123)
    assert (llm.start_ns, llm.end_ns) == (1700000000100000001, 1700000001100000002)
    assert root.status.code is StatusCode.UNSET
    assert llm.status.code is StatusCode.OK
    assert tool.status.code is StatusCode.ERROR
    assert tool.status.message == "timeout after 30s"
    assert llm.attributes["llm.token_count.prompt"] == 120
    assert llm.attributes["llm.token_count.completion"] == 30
    (event,) = llm.events
    assert (event.name, event.time_ns, event.attributes) == (
        "gen_ai.content.prompt",
        1700000000500000000,
        {"gen_ai.prompt": "hi"},
    )

    b = traces[TRACE_B]
    assert [(s.span_id, s.parent_id) for s in b.spans] == [
        ("eee19b7ec3c1b174", None),
        ("eee19b7ec3c1b173", "eee19b7ec3c1b174"),
    ]
    assert b.spans[0].status.code is StatusCode.OK
    assert b.spans[1].status.code is StatusCode.UNSET


def test_any_value_types_become_plain_values() -> None:
    tool = _raw_spans(OTLP / "collector.jsonl")["b7ad6b7169203331"]
    attrs = tool.attributes
    assert attrs["tool.tags"] == ["web", 2, True]
    assert attrs["tool.config"] == {"region": "eu", "limit": 0.5}
    assert attrs["tool.blob"] == "aGVsbG8="
    assert attrs["tool.retry"] is False
    assert attrs["tool.empty"] is None


def test_kind_resource_and_scope() -> None:
    spans = _raw_spans(OTLP / "collector.jsonl")
    kinds = {span_id: span.otel_kind for span_id, span in spans.items()}
    assert kinds == {
        "00f067aa0ba902b7": "internal",
        "a1b2c3d4e5f60718": "client",
        "b7ad6b7169203331": "internal",
        "eee19b7ec3c1b174": "server",
        "eee19b7ec3c1b173": "producer",
    }
    assert spans["00f067aa0ba902b7"].resource == {
        "service.name": "support-agent",
        "service.instance.id": 7,
    }
    assert spans["00f067aa0ba902b7"].scope == "openinference.instrumentation.openai"
    assert spans["eee19b7ec3c1b174"].resource == {"service.name": "billing"}
    assert spans["eee19b7ec3c1b174"].scope == "manual"


def test_legacy_names_enum_strings_and_mixed_case_ids() -> None:
    (trace,) = read_traces(OTLP / "legacy_pretty.json")
    assert trace.trace_id == "0af7651916cd43dd8448eb211c80319c"
    server, query = trace.spans
    assert (server.span_id, server.parent_id) == ("b7ad6b7169203331", None)
    assert (query.span_id, query.parent_id) == ("00f067aa0ba902b7", "b7ad6b7169203331")
    # A pre-0.7 gRPC-style failure code is an error.
    assert server.status.code is StatusCode.ERROR
    assert server.status.message == "upstream 503"
    assert query.status.code is StatusCode.OK
    raw = _raw_spans(OTLP / "legacy_pretty.json")
    assert raw["b7ad6b7169203331"].otel_kind == "server"
    assert raw["00f067aa0ba902b7"].otel_kind == "client"
    assert raw["00f067aa0ba902b7"].scope == "legacy-lib"
    assert raw["00f067aa0ba902b7"].resource == {"service.name": "legacy-svc"}


def test_real_tempo_export() -> None:
    (trace,) = read_traces(TEMPO)
    assert trace.trace_id == "dd547580319ab0312cee07f1def50dad"
    assert len(trace.spans) == 86
    codes = [span.status.code for span in trace.spans]
    assert codes.count(StatusCode.OK) == 30
    assert codes.count(StatusCode.UNSET) == 56
    first = trace.span("21beb323d66610f7")
    assert first is not None
    # Its parent (cbd1b46f7435c01a) is not in the export, so it hangs under the root.
    assert first.parent_id == "529566afa763bd4d"
    # Tempo wrote these as JSON numbers; they arrive as the integers in the file.
    assert (first.start_ns, first.end_ns) == (1777555053780274700, 1777555053781172000)
    raw = _raw_spans(TEMPO)
    assert raw["21beb323d66610f7"].parent_id == "cbd1b46f7435c01a"
    assert raw["21beb323d66610f7"].otel_kind == "server"
    assert raw["21beb323d66610f7"].resource["service.name"] == "kagent-controller"
    assert raw["21beb323d66610f7"].scope == (
        "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
    )
    batches = Counter((span.scope, span.resource.get("service.name")) for span in raw.values())
    assert batches == {
        ("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "kagent-controller"): 19,
        ("opentelemetry.instrumentation.httpx", "helm_agent"): 67,
    }
    assert Counter(span.otel_kind for span in raw.values()) == {
        "server": 54,
        "client": 17,
        "internal": 15,
    }


def test_truncated_line_names_file_and_line() -> None:
    path = OTLP / "truncated.jsonl"
    with pytest.raises(InputError) as info:
        read_traces(path)
    message = str(info.value)
    assert f"{path}:2" in message
    assert "invalid JSON" in message


def test_truncated_line_is_skipped_and_counted_when_asked() -> None:
    stream = TraceStream([OTLP / "truncated.jsonl"], options=ReadOptions(skip_invalid=True))
    traces = list(stream)
    assert sorted(s.name for t in traces for s in t.spans) == ["first", "third"]
    (report,) = stream.reports
    assert report.skipped.count == 1
    assert "truncated.jsonl:2" in report.skipped.first[0]


def test_invalid_utf8_names_the_line() -> None:
    path = OTLP / "invalid_utf8.jsonl"
    with pytest.raises(InputError, match="invalid UTF-8") as info:
        read_traces(path)
    assert f"{path}:2" in str(info.value)
    assert len(read_traces(path, skip_invalid=True)) == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (2, "startTimeUnixNano 'soon' is not an integer"),
        (3, "traceId 42 is not a hex or base64 id"),
        (4, "resourceSpans is a str, not a list"),
    ],
)
def test_wrong_types_name_line_and_field(line: int, expected: str) -> None:
    path = OTLP / "wrong_types.jsonl"
    stream = TraceStream([path], options=ReadOptions(skip_invalid=True))
    traces = list(stream)
    assert sorted(s.name for t in traces for s in t.spans) == ["first", "third"]
    (report,) = stream.reports
    assert report.skipped.count == 3
    assert any(f"{path}:{line}" in entry and expected in entry for entry in report.skipped.first)


def test_wrong_type_stops_without_skip_invalid() -> None:
    with pytest.raises(InputError, match=r"wrong_types\.jsonl:2 at startTimeUnixNano"):
        read_traces(OTLP / "wrong_types.jsonl")


def test_other_signals_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    span = (
        '{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",'
        '"name":"x","startTimeUnixNano":"5","endTimeUnixNano":"9"}'
    )
    path.write_text(
        '{"resourceSpans":[{"scopeSpans":[{"spans":[' + span + ']}]}]}\n{"resourceMetrics":[]}\n'
    )
    stream = TraceStream([path])
    (trace,) = list(stream)
    assert (trace.spans[0].start_ns, trace.spans[0].end_ns) == (5, 9)
    assert any("logs/metrics" in warning for warning in stream.reports[0].warnings)


def test_large_pretty_document_and_tempo_v2_wrapper(tmp_path: Path) -> None:
    spans = [
        {
            "traceId": "0102030405060708090a0b0c0d0e0f10",
            "spanId": f"{index + 1:016x}",
            "parentSpanId": "" if index == 0 else "0000000000000001",
            "name": f"step {index}",
            "kind": "SPAN_KIND_INTERNAL",
            "startTimeUnixNano": str(1_000 + index),
            "endTimeUnixNano": str(2_000 + index),
            "attributes": [{"key": "i", "value": {"intValue": str(index)}}],
        }
        for index in range(400)
    ]
    path = tmp_path / "tempo_v2.json"
    path.write_text(
        json.dumps({"trace": {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}}, indent=2)
    )
    assert path.stat().st_size > 65536  # bigger than the detection head
    assert detect_format(path) == "otlp_json"
    (trace,) = read_traces(path)
    assert len(trace.spans) == 400
    assert trace.spans[-1].attributes == {"i": 399}
    assert (trace.start_ns, trace.end_ns) == (1_000, 2_399)
