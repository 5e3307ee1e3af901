"""Jaeger query-API JSON: ``{"data": [{traceID, spans: [...], processes: {...}}]}``.

This is what the Jaeger UI's "Download JSON" and ``/api/traces`` return. Times
are microseconds; attributes are ``tags: [{key, type, value}]``; the parent is
a ``CHILD_OF`` (else ``FOLLOWS_FROM``) reference; ``processes`` hold the
resource. The OpenTelemetry-to-Jaeger translation stores OTel fields as tags
(``span.kind``, ``otel.status_code``, ``error``, ``otel.scope.name``); those
become the span's kind, status and scope and leave the attributes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agent_backtest.trace.raw import RawEvent, RawSpan, ReadItem, normalize_id, to_int
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "jaeger"
DESCRIPTION = "Jaeger query-API JSON (data[].spans[], tags, microsecond times, references)"

_FIX = "expected Jaeger query-API JSON: {'data': [{'traceID', 'spans': [...], 'processes'}]}"
_KINDS = frozenset(("internal", "server", "client", "producer", "consumer"))
# OTel fields the Jaeger exporter flattens into tags; they are read, then dropped.
_TRANSLATED = frozenset(
    (
        "span.kind",
        "otel.status_code",
        "otel.status_description",
        "error",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "otel.library.version",
    )
)


def sniff(head: Head) -> bool:
    first = head.first_value
    if isinstance(first, dict):
        data = first.get("data")
        if isinstance(data, list):
            return not data or (isinstance(data[0], dict) and "spans" in data[0])
        return "traceID" in first and isinstance(first.get("spans"), list)
    # A bad byte in the head must not hide the format: reading reports it with its line.
    text = head.text if head.text is not None else head.raw.decode("utf-8", "replace")
    if text.lstrip()[:1] not in ("{", "["):
        return False
    window = text[:16384]
    return '"traceID"' in window and '"spanID"' in window and '"operationName"' in window


def read(source: FileSource) -> Iterator[ReadItem]:
    document = source.read_document()
    if isinstance(document, dict) and "data" in document:
        traces = document["data"]
    elif isinstance(document, dict) and "spans" in document:
        traces = [document]  # one trace object on its own
    else:
        traces = document
    if not isinstance(traces, list):
        raise source.fail(f"'data' is a {type(traces).__name__}, not a list", line=1, fix=_FIX)
    for index, trace in enumerate(traces):
        where = f"data[{index}]"
        if not isinstance(trace, dict) or not isinstance(trace.get("spans"), list):
            source.skip_or_raise(source.fail("a trace without a spans list", field=where, fix=_FIX))
            continue
        processes = trace.get("processes") or {}
        resources: dict[str, dict[str, Any]] = {}
        for span_index, span in enumerate(trace["spans"]):
            field = f"{where}.spans[{span_index}]"
            try:
                raw = _span(span, processes, resources)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                source.skip_or_raise(
                    source.fail(f"malformed span: {_describe(exc)}", field=field, fix=_FIX)
                )
                continue
            yield ReadItem(span=raw)


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _span(
    span: dict[str, Any], processes: dict[str, Any], resources: dict[str, dict[str, Any]]
) -> RawSpan:
    trace_id = normalize_id(span["traceID"], 32)
    span_id = normalize_id(span["spanID"], 16)
    if trace_id is None or span_id is None:
        raise ValueError("traceID and spanID must be non-zero ids")
    start_us = to_int(span["startTime"])
    duration_us = to_int(span.get("duration") or 0)
    attributes = _tags(span.get("tags") or ())

    kind = attributes.get("span.kind")
    status_text = str(attributes.get("otel.status_code") or "").lower()
    if status_text not in ("ok", "error"):
        error = attributes.get("error")
        status_text = "error" if error is True or error == "true" else "unset"
    message = attributes.get("otel.status_description")
    scope = attributes.get("otel.scope.name") or attributes.get("otel.library.name")
    for key in _TRANSLATED.intersection(attributes):
        del attributes[key]

    return RawSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=_parent(span, trace_id),
        name=str(span.get("operationName") or ""),
        start_ns=start_us * 1000,
        end_ns=(start_us + duration_us) * 1000,
        otel_kind=kind if kind in _KINDS else None,
        status_code=status_text,
        status_message=str(message) if message else None,
        attributes=attributes,
        events=[_log(log) for log in span.get("logs") or ()],
        resource=_resource(span, processes, resources),
        scope=str(scope) if scope else None,
    )


def _parent(span: dict[str, Any], trace_id: str) -> str | None:
    references = span.get("references") or ()
    for wanted in ("CHILD_OF", "FOLLOWS_FROM"):
        for ref in references:
            if ref.get("refType") == wanted and normalize_id(ref.get("traceID"), 32) in (
                trace_id,
                None,
            ):
                return normalize_id(ref.get("spanID"), 16)
    # Older exports name the parent directly.
    return normalize_id(span.get("parentSpanID"), 16)


def _resource(
    span: dict[str, Any], processes: dict[str, Any], cache: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    process_id: Any = span.get("processID")
    if process_id is not None and process_id in cache:
        return cache[process_id]
    process = span.get("process") or processes.get(process_id) or {}
    resource = _tags(process.get("tags") or ())
    if process.get("serviceName"):
        resource["service.name"] = process["serviceName"]
    if process_id is not None:
        cache[process_id] = resource
    return resource


def _log(log: dict[str, Any]) -> RawEvent:
    fields = _tags(log.get("fields") or ())
    # The OTel-to-Jaeger translation stores the event name as the "event" field.
    name = fields.pop("event", None) or fields.pop("message", None) or "log"
    time = log.get("timestamp")
    return RawEvent(
        name=str(name), time_ns=None if time is None else to_int(time) * 1000, attributes=fields
    )


def _tags(tags: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tag in tags:
        key = tag["key"]
        value = tag.get("value")
        kind = tag.get("type", "string")
        if kind == "string" or value is None:
            out[key] = value
        elif kind == "int64":
            out[key] = to_int(value)
        elif kind == "float64":
            out[key] = float(value)
        elif kind == "bool":
            out[key] = value if isinstance(value, bool) else str(value).lower() == "true"
        elif kind == "binary":
            # Jaeger JSON carries bytes as base64; keep that text (plain values only).
            base64.b64decode(value, validate=True)
            out[key] = value
        else:
            raise ValueError(f"tag {key!r} has unknown type {kind!r}")
    return out
