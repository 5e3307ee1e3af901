from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agent_backtest import InputError, StatusCode, read_traces
from agent_backtest.trace.api import TraceStream
from agent_backtest.trace.raw import RawSpan
from agent_backtest.trace.registry import detect_format, get_reader
from agent_backtest.trace.source import FileSource, ReadOptions

FIXTURES = Path(__file__).parents[2] / "fixtures" / "traces"
JAEGER = FIXTURES / "jaeger"
HELM = FIXTURES / "third_party" / "agentevals" / "helm.json"

SHORT_TRACE = "0000000000000000a1b2c3d4e5f60718"  # a 64-bit Jaeger trace id, upper-case in the file


def _raw_spans(path: Path) -> dict[str, RawSpan]:
    items = get_reader("jaeger").read(FileSource(path))
    return {item.span.span_id: item.span for item in items if item.span is not None}


@pytest.mark.parametrize("path", [JAEGER / "query_api.json", HELM, JAEGER / "truncated.json"])
def test_detected_by_content(path: Path) -> None:
    assert detect_format(path) == "jaeger"


def test_traces_spans_parents_and_microsecond_times() -> None:
    traces = {trace.trace_id: trace for trace in read_traces(JAEGER / "query_api.json")}
    assert sorted(traces) == [SHORT_TRACE, "0af7651916cd43dd8448eb211c80319c"]

    agent = traces[SHORT_TRACE]
    assert [(s.span_id, s.parent_id) for s in agent.spans] == [
        ("ffa1b2c3d4e5f601", None),
        ("ffa1b2c3d4e5f602", "ffa1b2c3d4e5f601"),  # CHILD_OF
        ("ffa1b2c3d4e5f603", "ffa1b2c3d4e5f601"),  # FOLLOWS_FROM
    ]
    root, chat, notify = agent.spans
    assert (root.start_ns, root.end_ns) == (1700000000000001000, 1700000005000001000)
    assert (chat.start_ns, chat.end_ns) == (1700000000100000000, 1700000000350000000)
    assert root.status.code is StatusCode.OK
    assert chat.status.code is StatusCode.ERROR  # from the bare `error=true` tag
    assert notify.status.code is StatusCode.ERROR
    assert notify.status.message == "rate limited"
    assert root.name == "invoke_agent planner"


def test_tags_become_typed_attributes_and_otel_tags_become_fields() -> None:
    spans = _raw_spans(JAEGER / "query_api.json")
    root = spans["ffa1b2c3d4e5f601"]
    assert root.attributes == {
        "gen_ai.agent.name": "planner",
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.request.temperature": 0.25,
        "cache.hit": False,
    }
    assert (root.otel_kind, root.scope) == ("server", "agent-lib")
    assert root.resource == {"host.name": "h1", "service.name": "agent-svc"}
    (event,) = root.events
    assert (event.name, event.time_ns) == ("exception", 1700000000500000000)
    assert event.attributes == {"exception.message": "boom", "exception.escaped": "False"}

    chat = spans["ffa1b2c3d4e5f602"]
    assert chat.otel_kind == "client"
    assert chat.resource == {"service.name": "llm-gateway"}
    assert "error" not in chat.attributes
    assert spans["ffa1b2c3d4e5f603"].attributes == {"payload": "aGVsbG8="}

    health = spans["00f067aa0ba902b7"]
    # An int64 beyond float precision stays exact; an embedded process is the resource.
    assert health.attributes == {"big.number": 9007199254740993}
    assert health.resource == {"service.name": "web"}
    assert (health.start_ns, health.end_ns) == (1600000000000000000, 1600000000000012000)


def test_real_helm_export() -> None:
    (trace,) = read_traces(HELM)
    assert trace.trace_id == "3e289017fe03ffd7c4145316d2eb3d0d"
    assert len(trace.spans) == 96
    assert [root.span_id for root in trace.roots] == ["e3daa973379bbe3b"]
    assert (trace.start_ns, trace.end_ns) == (1771237534567093000, 1771237538747585000)
    post = trace.span("1f9762ca1e03e2d2")
    assert post is not None
    assert post.parent_id == "e3daa973379bbe3b"
    assert (post.start_ns, post.end_ns) == (1771237534577907000, 1771237534583417000)
    assert Counter(span.status.code for span in trace.spans) == {
        StatusCode.UNSET: 51,
        StatusCode.OK: 44,
        StatusCode.ERROR: 1,
    }
    raw = _raw_spans(HELM)
    assert raw["1f9762ca1e03e2d2"].resource == {
        "service.namespace": "kagent",
        "service.name": "helm_agent",
    }
    assert raw["1648021c0a3f968d"].status_code == "error"
    assert Counter(span.otel_kind for span in raw.values()) == {
        "server": 51,
        "client": 28,
        "internal": 17,
    }
    assert sum(len(span.events) for span in raw.values()) == 7


def test_truncated_document_names_file_line_and_column() -> None:
    path = JAEGER / "truncated.json"
    with pytest.raises(InputError, match="invalid JSON") as info:
        read_traces(path)
    assert str(info.value).startswith(f"{path}:")
    assert str(info.value).split(":")[1].isdigit()


def test_bad_spans_name_their_place_and_can_be_skipped() -> None:
    path = JAEGER / "bad_spans.json"
    with pytest.raises(InputError, match=r"at data\[0\]\.spans\[1\].*missing 'spanID'"):
        read_traces(path)
    stream = TraceStream([path], options=ReadOptions(skip_invalid=True))
    (trace,) = list(stream)
    assert [span.name for span in trace.spans] == ["good"]
    (report,) = stream.reports
    assert report.skipped.count == 2
    assert any("unknown type 'complex'" in entry for entry in report.skipped.first)
