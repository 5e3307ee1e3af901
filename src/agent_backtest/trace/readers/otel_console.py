"""OpenTelemetry Python SDK console output: ``ConsoleSpanExporter`` / ``ReadableSpan.to_json()``.

The exporter prints one indented JSON object per span, back to back, so a file
is several JSON values concatenated. Ids are ``0x``-prefixed hex in
``context`` with the parent in ``parent_id``; times are ISO-8601 strings;
``kind`` is ``SpanKind.INTERNAL``. Tools that serialize ``ReadableSpan``
themselves (any-agent) write decimal-integer ids, a ``parent`` context object,
integer nanosecond times and lower-case kinds and statuses, often wrapped as
``{"spans": [...]}``. All of these are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent_backtest.errors import InputError
from agent_backtest.trace.raw import RawEvent, RawSpan, ReadItem, normalize_id, to_int
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "otel_console"
DESCRIPTION = "OpenTelemetry SDK console output / ReadableSpan.to_json() (context, parent, status)"

_FIX = "expected OpenTelemetry SDK span JSON: {name, context: {trace_id, span_id}, start_time, ...}"
_KINDS = ("internal", "server", "client", "producer", "consumer")  # Python SpanKind order
_STATUSES = frozenset(("ok", "error", "unset"))
_CONTEXT = re.compile(r'"context"\s*:\s*\{\s*"trace_id"')
_ISO = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[.,](\d+))?(Z|[+-]\d\d:?\d\d)?", re.IGNORECASE
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def sniff(head: Head) -> bool:
    first = head.first_value
    if isinstance(first, dict):
        spans = first.get("spans")
        if isinstance(spans, list) and spans:
            first = spans[0]
        return _is_span(first)
    if isinstance(first, list) and first:
        return _is_span(first[0])
    # A bad byte in the head must not hide the format: reading reports it with its line.
    text = head.text if head.text is not None else head.raw.decode("utf-8", "replace")
    if text.lstrip()[:1] not in ("{", "["):
        return False
    # Concatenated objects never parse as one value; look for the span shape instead.
    window = text[:16384]
    return _CONTEXT.search(window) is not None and '"start_time"' in window


def _is_span(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("context"), dict)
        and "span_id" in value["context"]
        and "start_time" in value
    )


def read(source: FileSource) -> Iterator[ReadItem]:
    values = source.iter_concatenated_json()
    while True:
        try:
            line, value = next(values)
        except StopIteration:
            return
        except InputError as error:
            # Bad JSON ends the stream (nothing after it can be framed); with
            # skip_invalid the spans read so far are kept and the rest is counted.
            source.skip_or_raise(error)
            return
        if isinstance(value, dict) and "context" not in value and "spans" in value:
            value = value["spans"]
        for span in value if isinstance(value, list) else (value,):
            try:
                raw = _span(span)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                source.skip_or_raise(_error(source, span, line, exc))
                continue
            yield ReadItem(span=raw, line=line)


def _error(source: FileSource, span: Any, line: int, exc: Exception) -> InputError:
    if not isinstance(span, dict):
        return source.fail(f"expected a span object, found {type(span).__name__}", line=line)
    what = f"missing {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
    name = span.get("name")
    return source.fail(
        f"span {name!r}: {what}" if isinstance(name, str) else what, line=line, fix=_FIX
    )


def _span(span: dict[str, Any]) -> RawSpan:
    context = span["context"]
    trace_id = _id(context["trace_id"], 32)
    span_id = _id(context["span_id"], 16)
    if trace_id is None or span_id is None:
        raise ValueError("context.trace_id and context.span_id must be non-zero ids")
    parent = span.get("parent")
    parent_id = _id(parent.get("span_id"), 16) if isinstance(parent, dict) else None
    if parent_id is None:
        parent_id = _id(span.get("parent_id"), 16)
    start = _time(span["start_time"], "start_time")
    end = span.get("end_time")
    status = span.get("status") or {}
    status_code = _status(status.get("status_code"))
    resource = span.get("resource") or {}
    scope = span.get("instrumentation_scope") or span.get("instrumentation_info") or {}
    attributes = span.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise TypeError(f"attributes must be an object, not {type(attributes).__name__}")
    name = span.get("name", "")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, not {type(name).__name__}")
    return RawSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id,
        name=name,
        start_ns=start,
        end_ns=start if end is None else _time(end, "end_time"),
        otel_kind=_kind(span.get("kind")),
        status_code=status_code,
        status_message=status.get("description") or None,
        attributes=attributes,
        events=[_event(event) for event in span.get("events") or ()],
        resource=dict(resource.get("attributes") or {}),
        scope=scope.get("name") if isinstance(scope, dict) else None,
    )


def _id(value: Any, width: int) -> str | None:
    # Decimal strings longer than the hex width cannot be hex: they are int(ids) as text.
    if isinstance(value, str) and value.isdigit() and len(value) > width:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str, type(None))):
        raise TypeError(f"id {value!r} is neither an integer nor a string")
    return normalize_id(value, width)


def _time(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.lstrip("-").isdigit():
            return int(value)
        match = _ISO.fullmatch(value.strip())
        if match:
            return _iso_to_ns(*match.groups())
    if isinstance(value, float):
        return to_int(value)
    raise ValueError(f"{field} {value!r} is neither integer nanoseconds nor an ISO-8601 time")


def _iso_to_ns(seconds_part: str, fraction: str | None, zone: str | None) -> int:
    """Whole seconds through datetime, the fraction as digits: nanoseconds never touch a float."""
    if zone is None or zone.upper() == "Z":
        zone = "+00:00"
    moment = datetime.fromisoformat(seconds_part + zone)
    seconds = (moment - _EPOCH) // _SECOND
    return seconds * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and 0 <= value < len(_KINDS):
        return _KINDS[value]
    text = str(value).rsplit(".", 1)[-1].lower()  # "SpanKind.INTERNAL" -> "internal"
    text = text.removeprefix("span_kind_")
    if text in _KINDS:
        return text
    raise ValueError(f"unknown kind {value!r} (expected SpanKind.INTERNAL/SERVER/CLIENT/...)")


def _status(value: Any) -> str:
    if value is None:
        return "unset"
    text = str(value).rsplit(".", 1)[-1].lower()  # "StatusCode.ERROR" -> "error"
    if text in _STATUSES:
        return text
    raise ValueError(f"unknown status_code {value!r} (expected ok, error or unset)")


def _event(event: dict[str, Any]) -> RawEvent:
    time = event.get("timestamp")
    return RawEvent(
        name=str(event.get("name") or ""),
        time_ns=None if time is None else _time(time, "events.timestamp"),
        attributes=dict(event.get("attributes") or {}),
    )
