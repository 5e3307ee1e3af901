"""Production tracing for the example: OpenTelemetry SDK -> OTLP JSON Lines, deterministically.

The traces are made by the real OpenTelemetry SDK, as in any instrumented
service; this module adds what a committed fixture needs on top:

- ``SequentialIds``: trace and span ids derived from the conversation id, so a
  rerun gives the same ids;
- ``ExportOrder`` + ``simulated_times``: the spans' wall-clock times depend on
  the machine, so the exporter replaces them with a simulated clock that keeps
  the real order of every start and end and gives each call its production
  latency (``backend.LATENCY_MS``, a 10 s timeout, LLM time from token counts);
- ``otlp_json_line``: one ``ExportTraceServiceRequest`` per trace in OTLP JSON
  (hex ids, string int64s), the shape the OpenTelemetry Collector's file
  exporter writes. Exception stack traces are left out: they hold file paths
  of the machine that ran the agent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import StatusCode

from examples.support_agent.backend import LATENCY_MS, TIMEOUT_MS

_MS = 1_000_000
_STATUS = {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}
_KIND = {0: 1, 1: 2, 2: 3, 3: 4, 4: 5}  # SDK SpanKind value -> OTLP enum (INTERNAL=1, ...)


def span_ids(span: ReadableSpan) -> tuple[int, int]:
    """(trace id, span id); every span the SDK hands a processor has a context."""
    context = span.get_span_context()
    assert context is not None
    return context.trace_id, context.span_id


class SequentialIds(IdGenerator):
    """Ids that depend only on the conversation and the span's position in it."""

    def __init__(self) -> None:
        self.conversation = "none"
        self.count = 0

    def start(self, conversation: str) -> None:
        self.conversation = conversation
        self.count = 0

    def _digest(self, label: str) -> int:
        return int(hashlib.sha256(f"{self.conversation}:{label}".encode()).hexdigest(), 16)

    def generate_trace_id(self) -> int:
        return self._digest("trace") >> 128

    def generate_span_id(self) -> int:
        self.count += 1
        return self._digest(f"span:{self.count}") >> 192


@dataclass
class ExportOrder(SpanProcessor):
    """Keeps finished spans and the order in which every span started and ended."""

    events: list[tuple[str, int]] = field(default_factory=list)  # ("start"|"end", span id)
    finished: list[ReadableSpan] = field(default_factory=list)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.events.append(("start", span_ids(span)[1]))

    def on_end(self, span: ReadableSpan) -> None:
        self.events.append(("end", span_ids(span)[1]))
        self.finished.append(span)

    def take(self) -> tuple[list[tuple[str, int]], list[ReadableSpan]]:
        events, finished = self.events, self.finished
        self.events, self.finished = [], []
        return events, finished


def simulated_duration_ns(span: ReadableSpan) -> int:
    attrs = span.attributes or {}
    kind = attrs.get("openinference.span.kind")
    if kind == "TOOL":
        if span.status.status_code is StatusCode.ERROR and "Timeout" in str(
            span.status.description
        ):
            return TIMEOUT_MS * _MS
        return LATENCY_MS.get(str(attrs.get("tool.name")), 100) * _MS
    if kind == "LLM":
        prompt = int(str(attrs.get("llm.token_count.prompt", 0)))
        completion = int(str(attrs.get("llm.token_count.completion", 0)))
        return (350 + prompt // 25 + 12 * completion) * _MS
    return 0


def simulated_times(
    events: Sequence[tuple[str, int]], spans: Sequence[ReadableSpan], start_ns: int
) -> dict[int, tuple[int, int]]:
    """span id -> (start, end) on a clock that starts at ``start_ns``."""
    by_id = {span_ids(span)[1]: span for span in spans}
    clock = start_ns - _MS  # the first start lands on start_ns itself
    starts: dict[int, int] = {}
    times: dict[int, tuple[int, int]] = {}
    for event, span_id in events:
        if event == "start":
            clock += _MS
            starts[span_id] = clock
            continue
        clock = max(clock + _MS, starts[span_id] + simulated_duration_ns(by_id[span_id]))
        times[span_id] = (starts[span_id], clock)
    return times


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any_value(v)} for k, v in (attributes or {}).items()]


def _span_json(span: ReadableSpan, start: int, end: int) -> dict[str, Any]:
    trace_id, span_id = span_ids(span)
    events = [
        {
            "timeUnixNano": str(end),
            "name": event.name,
            "attributes": _attributes(
                {k: v for k, v in (event.attributes or {}).items() if k != "exception.stacktrace"}
            ),
        }
        for event in span.events
    ]
    status: dict[str, Any] = {"code": _STATUS[span.status.status_code]}
    if span.status.description:
        status["message"] = span.status.description
    data: dict[str, Any] = {
        "traceId": f"{trace_id:032x}",
        "spanId": f"{span_id:016x}",
        "parentSpanId": f"{span.parent.span_id:016x}" if span.parent else "",
        "name": span.name,
        "kind": _KIND[span.kind.value],
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": _attributes(span.attributes),
        "status": status,
    }
    if events:
        data["events"] = events
    return data


def otlp_json_line(
    spans: Sequence[ReadableSpan], times: dict[int, tuple[int, int]], resource: dict[str, Any]
) -> str:
    """One trace as one OTLP JSON line, spans grouped by instrumentation scope."""
    scopes: dict[str, list[dict[str, Any]]] = {}
    ordered = sorted(spans, key=lambda s: times[span_ids(s)[1]])
    for span in ordered:
        scope = span.instrumentation_scope.name if span.instrumentation_scope else "unknown"
        scopes.setdefault(scope, []).append(_span_json(span, *times[span_ids(span)[1]]))
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes(resource)},
                "scopeSpans": [
                    {"scope": {"name": name}, "spans": members} for name, members in scopes.items()
                ],
            }
        ]
    }
    return json.dumps(request, separators=(",", ":"), ensure_ascii=False)
