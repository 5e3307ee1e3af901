from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent_backtest import InputError, StatusCode, Trace, read_traces
from agent_backtest.trace.api import TraceStream
from agent_backtest.trace.raw import RawSpan
from agent_backtest.trace.registry import detect_format, get_reader, read_file_head
from agent_backtest.trace.source import FileSource, ReadOptions

FIXTURES = Path(__file__).parents[2] / "fixtures" / "traces"
PROTO = FIXTURES / "otlp_proto"
T0 = 1_700_000_000_000_000_001
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _raw_spans(path: Path) -> dict[str, RawSpan]:
    items = get_reader("otlp_proto").read(FileSource(path))
    return {item.span.span_id: item.span for item in items if item.span is not None}


def _check_trace(trace: Trace) -> None:
    assert trace.trace_id == TRACE
    spans = {span.span_id: span for span in trace.spans}
    assert {(span_id, span.parent_id) for span_id, span in spans.items()} == {
        ("00f067aa0ba902b7", None),
        ("a1b2c3d4e5f60718", "00f067aa0ba902b7"),
        ("b7ad6b7169203331", "00f067aa0ba902b7"),
    }
    root, llm, tool = (
        spans["00f067aa0ba902b7"],
        spans["a1b2c3d4e5f60718"],
        spans["b7ad6b7169203331"],
    )
    assert (root.start_ns, root.end_ns) == (T0, T0 + 5_000)
    assert (llm.start_ns, llm.end_ns) == (T0 + 100, T0 + 2_000)
    assert root.status.code is StatusCode.UNSET
    assert llm.status.code is StatusCode.OK
    assert (tool.status.code, tool.status.message) == (StatusCode.ERROR, "timeout")
    (event,) = llm.events
    assert (event.name, event.time_ns, event.attributes) == (
        "gen_ai.content.prompt",
        T0 + 500,
        {"gen_ai.prompt": "hi"},
    )


@pytest.mark.parametrize("name", ["collector.binpb", "request.binpb", "truncated.binpb"])
def test_detected_by_content(name: str) -> None:
    assert detect_format(PROTO / name) == "otlp_proto"


@pytest.mark.parametrize("name", ["collector.binpb", "request.binpb"])
def test_framed_and_raw_requests_give_the_same_trace(name: str) -> None:
    (trace,) = read_traces(PROTO / name)
    _check_trace(trace)


def test_any_values_kind_resource_and_scope() -> None:
    spans = _raw_spans(PROTO / "collector.binpb")
    llm = spans["a1b2c3d4e5f60718"]
    assert llm.attributes == {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "llm.token_count.prompt": 120,
        "llm.invocation_parameters.temperature": 0.5,
        "llm.stream": False,
        "tags": ["a", 2],
        "config": {"region": "eu"},
        "blob": "aGVsbG8=",  # bytes as base64 text, as OTLP JSON writes them
    }
    assert {span_id: span.otel_kind for span_id, span in spans.items()} == {
        "00f067aa0ba902b7": "server",
        "a1b2c3d4e5f60718": "client",
        "b7ad6b7169203331": "internal",
    }
    assert llm.resource == {"service.name": "support-agent"}
    assert llm.scope == "openinference.instrumentation.openai"


def test_text_files_are_never_taken_for_protobuf() -> None:
    sniff = get_reader("otlp_proto").sniff
    text_files = [
        path
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.suffix in {".json", ".jsonl", ".txt", ".md", ".py"}
    ]
    assert len(text_files) > 10
    assert [path for path in text_files if sniff(read_file_head(path))] == []


@pytest.mark.parametrize(
    "content",
    [b"PAR1\x00\x00\x15\x04", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\n\x05hello\n"],
    ids=["parquet", "png", "newline-text"],
)
def test_other_files_are_not_protobuf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(content)
    assert not get_reader("otlp_proto").sniff(read_file_head(path))


def test_truncated_frame_names_message_and_byte() -> None:
    path = PROTO / "truncated.binpb"
    with pytest.raises(InputError, match=r"message 2 at byte \d+ is cut short") as info:
        read_traces(path)
    assert str(info.value).startswith(str(path))
    stream = TraceStream([path], options=ReadOptions(skip_invalid=True))
    (trace,) = list(stream)
    # Message 1 (the two children) survives; the root was in the cut message.
    assert sorted(span.span_id for span in trace.spans) == ["a1b2c3d4e5f60718", "b7ad6b7169203331"]
    assert stream.reports[0].skipped.count == 1


def test_corrupt_frame_is_skipped_and_the_next_one_read(tmp_path: Path) -> None:
    framed = (PROTO / "collector.binpb").read_bytes()
    first_size = int.from_bytes(framed[:4], "big")
    first, second = framed[: 4 + first_size], framed[4 + first_size :]
    garbage = b"\xff\xff\xff\xff\xff"
    path = tmp_path / "corrupt.binpb"
    path.write_bytes(first + len(garbage).to_bytes(4, "big") + garbage + second)
    with pytest.raises(InputError, match=r"message 2 .* is not valid protobuf"):
        read_traces(path)
    stream = TraceStream([path], options=ReadOptions(skip_invalid=True))
    (trace,) = list(stream)
    _check_trace(trace)
    assert stream.reports[0].skipped.count == 1


def test_missing_dependency_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        sys.modules, "opentelemetry.proto.collector.trace.v1.trace_service_pb2", None
    )
    # Detection needs no protobuf package, so the user learns what to install.
    assert detect_format(PROTO / "collector.binpb") == "otlp_proto"
    with pytest.raises(InputError, match=r"pip install 'agent-backtest\[protobuf\]'"):
        read_traces(PROTO / "collector.binpb")
