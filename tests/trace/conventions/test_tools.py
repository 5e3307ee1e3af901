"""TOOL spans: name, call id, raw and parsed arguments, result, error."""

from __future__ import annotations

from agent_backtest.trace.model import SpanKind, StatusCode
from agent_backtest.trace.raw import RawEvent

from .spans import attrs, decode


def test_genai_execute_tool_span() -> None:
    span = decode(attrs("openinference/otel_genai_tool_execution_span.json")).span
    assert span.kind is SpanKind.TOOL
    assert span.tool is not None
    assert span.tool.name == "get_weather"
    assert span.tool.call_id == "1234"
    assert span.tool.arguments_raw == '{"city": "New York"}'
    assert span.tool.arguments == {"city": "New York"}
    assert span.tool.result["status"] == "success"
    assert span.tool.error is None
    assert not span.is_error


def test_openinference_tool_span() -> None:
    span = decode(
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "lookup_order",
            "tool.parameters": '{"type": "object"}',
            "tool_call.id": "call_0",
            "input.value": '{"order_id": "1000"}',
            "output.value": "shipped",
        }
    ).span
    assert span.tool is not None
    assert (span.tool.name, span.tool.call_id) == ("lookup_order", "call_0")
    # tool.parameters is the schema, never the call's arguments
    assert span.tool.arguments == {"order_id": "1000"}
    assert span.tool.result == "shipped"  # plain text stays text


def test_genai_structured_arguments_get_a_raw_string() -> None:
    span = decode(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "add",
            "gen_ai.tool.call.arguments": {"a": 1, "b": 2},
            "gen_ai.tool.call.result": "3",
        }
    ).span
    assert span.tool is not None
    assert span.tool.arguments_raw == '{"a":1,"b":2}'
    assert span.tool.arguments == {"a": 1, "b": 2}
    assert span.tool.result == "3"


def test_tool_error_from_status() -> None:
    span = decode(
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t"},
        status="error",
        status_message="timeout after 30s",
    ).span
    assert span.tool is not None
    assert span.tool.error == "timeout after 30s"
    assert span.is_error


def test_tool_error_from_exception_event() -> None:
    event = RawEvent(
        name="exception",
        time_ns=1_500,
        attributes={"exception.type": "KeyError", "exception.message": "'order_id'"},
    )
    span = decode({"openinference.span.kind": "TOOL", "tool.name": "t"}, events=[event]).span
    assert span.tool is not None
    assert span.tool.error == "KeyError: 'order_id'"


def test_tool_error_from_error_type_sets_status() -> None:
    span = decode(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "t",
            "error.type": "TimeoutError",
        }
    ).span
    assert span.status.code is StatusCode.ERROR
    assert span.tool is not None
    assert span.tool.error == "TimeoutError"


def test_error_status_message_from_exception_event() -> None:
    event = RawEvent(name="exception", time_ns=None, attributes={"exception.message": "boom"})
    span = decode({"openinference.span.kind": "CHAIN"}, status="error", events=[event]).span
    assert span.status.message == "boom"


def test_kind_from_execute_tool_name_alone() -> None:
    span = decode({}, name="execute_tool fetch_page").span
    assert span.kind is SpanKind.TOOL
    assert span.tool is not None
    assert span.tool.name == "fetch_page"


def test_name_heuristic_is_conservative() -> None:
    assert decode({}, name="execute_tools_later").span.kind is SpanKind.UNKNOWN
    assert decode({}, name="chat history loader").span.kind is SpanKind.UNKNOWN
    assert decode({"http.method": "POST"}, name="POST").span.kind is SpanKind.UNKNOWN
