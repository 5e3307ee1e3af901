from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest import InputError, StatusCode, read_traces
from agent_backtest.trace.api import TraceStream
from agent_backtest.trace.raw import RawSpan
from agent_backtest.trace.registry import detect_format, get_reader
from agent_backtest.trace.source import FileSource, ReadOptions

FIXTURES = Path(__file__).parents[2] / "fixtures" / "traces"
CONSOLE = FIXTURES / "otel_console"
ANY_AGENT = FIXTURES / "third_party" / "any-agent"

# 2024-01-01T00:00:00.123456Z, the SDK's microsecond ISO time for the console fixture's root.
T0 = 1_704_067_200_123_456_000


def _raw_spans(path: Path) -> dict[str, RawSpan]:
    items = get_reader("otel_console").read(FileSource(path))
    return {item.span.span_id: item.span for item in items if item.span is not None}


@pytest.mark.parametrize(
    "path",
    [
        CONSOLE / "console_exporter.txt",
        CONSOLE / "edge_cases.txt",
        ANY_AGENT / "OPENAI_trace.json",
        ANY_AGENT / "LANGCHAIN_trace.json",
    ],
)
def test_detected_by_content(path: Path) -> None:
    assert detect_format(path) == "otel_console"


def test_sdk_console_exporter_output() -> None:
    (trace,) = read_traces(CONSOLE / "console_exporter.txt")
    assert trace.trace_id == "5b8aa5a2d2c872e8321cf37308d69df2"
    # The exporter prints children first (they end first); the tree still forms.
    assert [root.span_id for root in trace.roots] == ["00f067aa0ba902b7"]
    spans = {span.name: span for span in trace.spans}
    assert set(spans) == {"invoke_agent helper", "chat gpt-4o", "execute_tool lookup"}
    root, llm, tool = (
        spans["invoke_agent helper"],
        spans["chat gpt-4o"],
        spans["execute_tool lookup"],
    )
    assert (root.start_ns, root.end_ns) == (T0, T0 + 6_000_000)
    assert (llm.start_ns, llm.end_ns) == (T0 + 1_000_000, T0 + 3_000_000)
    assert (llm.span_id, llm.parent_id) == ("53995c3f42cd8ad8", "00f067aa0ba902b7")
    assert (tool.span_id, tool.parent_id) == ("0a1b2c3d4e5f6071", "00f067aa0ba902b7")
    assert root.status.code is StatusCode.UNSET
    assert llm.status.code is StatusCode.OK
    assert tool.status.code is StatusCode.ERROR
    assert tool.status.message == "no such order"
    (event,) = llm.events
    assert (event.name, event.time_ns, event.attributes) == (
        "gen_ai.choice",
        T0 + 2_000_000,
        {"index": 0},
    )

    raw = _raw_spans(CONSOLE / "console_exporter.txt")
    assert raw["53995c3f42cd8ad8"].otel_kind == "client"
    assert raw["00f067aa0ba902b7"].otel_kind == "internal"
    assert raw["00f067aa0ba902b7"].resource == {
        "service.name": "console-agent",
        "telemetry.sdk.language": "python",
    }
    assert raw["53995c3f42cd8ad8"].attributes == {
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 12,
    }


def test_edge_cases_ids_times_kinds_and_statuses() -> None:
    raw = _raw_spans(CONSOLE / "edge_cases.txt")
    assert set(raw) == {"ab08afea3548c547", "8100d9dbee1f3e47", "810cbb0a6d0a9c08"}
    assert {span.trace_id for span in raw.values()} == {"4bedea77bb33b9c5f280371eae21ea97"}

    root = raw["ab08afea3548c547"]
    assert root.parent_id is None
    # A decimal-string start, and nanoseconds kept from a 9-digit ISO fraction.
    assert (root.start_ns, root.end_ns) == (1704067200000000000, 1704067210000000001)
    assert root.otel_kind == "server"

    nanos = raw["8100d9dbee1f3e47"]
    assert nanos.parent_id == "ab08afea3548c547"
    assert nanos.start_ns == 1704067200123456789  # "+02:00" offset applied
    assert nanos.otel_kind == "client"  # Python SpanKind numbering: 2 is CLIENT
    assert (nanos.status_code, nanos.status_message) == ("error", "bad gateway")
    (event,) = nanos.events
    assert (event.name, event.time_ns, event.attributes) == (
        "retry",
        1704067200200000000,
        {"attempt": 2},
    )

    strings = raw["810cbb0a6d0a9c08"]  # upper-case 0x span id, decimal-string trace id and parent
    assert strings.parent_id == "ab08afea3548c547"
    assert (strings.status_code, strings.otel_kind) == ("ok", "client")

    (trace,) = read_traces(CONSOLE / "edge_cases.txt")
    assert len(trace.spans) == 3


@pytest.mark.parametrize(
    ("name", "spans", "root_id", "start", "end"),
    [
        ("OPENAI_trace.json", 6, "ab08afea3548c547", 1758026593209236000, 1758026594436486000),
        ("LANGCHAIN_trace.json", 7, "d78a58cabe908b85", 1758028600960730000, 1758028602753668000),
    ],
)
def test_real_any_agent_files(name: str, spans: int, root_id: str, start: int, end: int) -> None:
    (trace,) = read_traces(ANY_AGENT / name)
    assert len(trace.spans) == spans
    assert [root.span_id for root in trace.roots] == [root_id]
    assert all(span.parent_id == root_id for span in trace.spans if span.span_id != root_id)
    assert (trace.start_ns, trace.end_ns) == (start, end)
    root = trace.span(root_id)
    assert root is not None
    assert root.name == "invoke_agent [any_agent]"
    assert root.status.code is StatusCode.UNSET
    assert [span.status.code for span in trace.spans if span.span_id != root_id] == [
        StatusCode.OK
    ] * (spans - 1)


def test_any_agent_first_span_exact() -> None:
    raw = _raw_spans(ANY_AGENT / "OPENAI_trace.json")
    llm = raw["8100d9dbee1f3e47"]  # 9295669169508793927 in the file
    assert llm.trace_id == "4bedea77bb33b9c5f280371eae21ea97"
    assert (llm.start_ns, llm.end_ns) == (1758026593210770000, 1758026593449611000)
    assert llm.otel_kind == "internal"
    assert llm.attributes["gen_ai.usage.input_tokens"] == 269
    assert llm.resource["telemetry.sdk.version"] == "1.36.0"


def test_truncated_object_names_its_line() -> None:
    path = CONSOLE / "truncated.txt"
    with pytest.raises(InputError, match="invalid JSON") as info:
        read_traces(path)
    assert f"{path}:" in str(info.value)
    line = int(str(info.value).split(":")[1])
    assert line > 20  # the second object starts after the first's 30-odd lines
    stream = TraceStream([path], options=ReadOptions(skip_invalid=True))
    (trace,) = list(stream)
    assert [span.name for span in trace.spans] == ["first"]
    assert stream.reports[0].skipped.count == 1


def test_invalid_utf8_names_its_line() -> None:
    path = CONSOLE / "invalid_utf8.txt"
    with pytest.raises(InputError, match="invalid UTF-8") as info:
        read_traces(path)
    line = int(str(info.value).split(":")[1])
    total_lines = path.read_bytes().count(b"\n")
    assert total_lines // 2 < line <= total_lines


@pytest.mark.parametrize(
    ("expected"),
    [
        "span 'bad time': start_time 'yesterday' is neither integer nanoseconds nor an ISO-8601",
        "span 'bad kind': unknown kind 'SpanKind.SIDEWAYS'",
        "span 'bad attributes': attributes must be an object, not list",
    ],
)
def test_wrong_types_are_named_and_skippable(expected: str) -> None:
    path = CONSOLE / "wrong_types.txt"
    stream = TraceStream([path], options=ReadOptions(skip_invalid=True))
    spans = [span.name for trace in stream for span in trace.spans]
    assert sorted(spans) == ["first", "last"]
    (report,) = stream.reports
    assert report.skipped.count == 3
    assert any(expected in entry and f"{path}:" in entry for entry in report.skipped.first)


def test_wrong_type_stops_without_skip_invalid() -> None:
    path = CONSOLE / "wrong_types.txt"
    lines = path.read_text().splitlines()
    bad_line = next(n for n, text in enumerate(lines, 1) if '"name": "bad time"' in text)
    assert bad_line > 1
    with pytest.raises(InputError, match=f"wrong_types.txt:{bad_line}: span 'bad time'"):
        read_traces(path)
