"""A candidate ``Trace`` as OTLP JSON with OpenInference attributes.

``--agent-evals-traces DIR`` writes one ``ExportTraceServiceRequest`` per run,
the shape the OpenTelemetry Collector's file exporter writes, so any OTLP
viewer (Jaeger, Phoenix, Tempo) can open it and our own ``otlp_json`` reader
reads it back into the same ``Trace``. Attribute names follow OpenInference,
the convention our decoder ranks first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from agent_backtest.trace.model import Message, Span, SpanKind, StatusCode, Trace
from agent_backtest.trace.writers import atomic_writer

_STATUS = {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}
_INTERNAL, _CLIENT = 1, 3


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"stringValue": orjson.dumps(value, default=str).decode()}


def _text(value: Any) -> tuple[str, str]:
    """(text, mime type) for input.value / output.value."""
    if isinstance(value, str):
        return value, "text/plain"
    return orjson.dumps(value, default=str).decode(), "application/json"


def _messages(prefix: str, messages: list[Message], attrs: dict[str, Any]) -> None:
    for i, message in enumerate(messages):
        base = f"{prefix}.{i}.message."
        attrs[base + "role"] = message.role
        if message.content is not None:
            attrs[base + "content"] = message.content
        if message.name is not None:
            attrs[base + "name"] = message.name
        if message.tool_call_id is not None:
            attrs[base + "tool_call_id"] = message.tool_call_id
        for j, call in enumerate(message.tool_calls):
            call_base = f"{base}tool_calls.{j}.tool_call."
            if call.id is not None:
                attrs[call_base + "id"] = call.id
            attrs[call_base + "function.name"] = call.name
            arguments = call.arguments_raw
            if arguments is None:
                arguments = orjson.dumps(call.arguments, default=str).decode()
            attrs[call_base + "function.arguments"] = arguments


def span_attributes(span: Span, trace: Trace) -> dict[str, Any]:
    attrs: dict[str, Any] = dict(span.attributes)
    attrs["openinference.span.kind"] = span.kind.value
    if trace.session_id:
        attrs["session.id"] = trace.session_id
    for side, value in (("input", span.input), ("output", span.output)):
        if value is not None:
            attrs[f"{side}.value"], attrs[f"{side}.mime_type"] = _text(value)
    llm = span.llm
    if llm is not None:
        if llm.model:
            attrs["llm.model_name"] = llm.model
        if llm.provider:
            attrs["llm.provider"] = llm.provider
        _messages("llm.input_messages", llm.input_messages, attrs)
        _messages("llm.output_messages", llm.output_messages, attrs)
        usage = llm.usage
        for key, count in (
            ("prompt", usage.input),
            ("completion", usage.output),
            ("total", usage.total),
            ("prompt_details.cache_read", usage.cache_read),
            ("prompt_details.cache_write", usage.cache_write),
        ):
            if count is not None:
                attrs[f"llm.token_count.{key}"] = count
        if llm.cost is not None:
            attrs["llm.cost.total"] = llm.cost
        if llm.finish_reasons:
            attrs["llm.finish_reason"] = llm.finish_reasons[0]
        if llm.invocation_parameters:
            attrs["llm.invocation_parameters"] = orjson.dumps(
                llm.invocation_parameters, default=str
            ).decode()
    tool = span.tool
    if tool is not None:
        attrs["tool.name"] = tool.name
        if tool.call_id is not None:
            attrs["tool_call.id"] = tool.call_id
        if "input.value" not in attrs and tool.arguments is not None:
            attrs["input.value"], attrs["input.mime_type"] = _text(tool.arguments)
        if "output.value" not in attrs and tool.result is not None:
            attrs["output.value"], attrs["output.mime_type"] = _text(tool.result)
    if span.kind is SpanKind.AGENT and trace.agent_name:
        attrs["agent.name"] = trace.agent_name
    return attrs


def _span(span: Span, trace: Trace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": trace.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": _CLIENT if span.kind is SpanKind.LLM else _INTERNAL,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": [
            {"key": k, "value": _value(v)}
            for k, v in span_attributes(span, trace).items()
            if v is not None
        ],
        "status": {"code": _STATUS[span.status.code]},
    }
    if span.parent_id:
        out["parentSpanId"] = span.parent_id
    if span.status.message:
        out["status"]["message"] = span.status.message
    return out


def trace_to_otlp(
    trace: Trace, *, service_name: str = "agent-backtest-candidate"
) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` (OTLP/JSON) holding this one trace."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": _value(service_name)}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "agent_backtest.replay"},
                        "spans": [_span(span, trace) for span in trace.spans],
                    }
                ],
            }
        ]
    }


def write_otlp_json(trace: Trace, path: Path) -> Path:
    """Write atomically, one JSON document per file (the file exporter's line format)."""
    with atomic_writer(path) as handle:
        handle.write(orjson.dumps(trace_to_otlp(trace)) + b"\n")
    return path
