"""OTLP JSON: the Collector file exporter's JSON Lines, or one (pretty-printed) document.

Each line (or the document) is an ``ExportTraceServiceRequest``:
``resourceSpans[].scopeSpans[].spans[]``. Pre-1.0 names (``batches``,
``instrumentationLibrarySpans``, ``instrumentationLibrary``) as Grafana Tempo
still writes them are read the same way.

This is the ingestion hot path (the benchmark holds it to 60% of bare
``json.loads``), so ``_read_request`` is one flat loop over local names: the
common spellings (lower-case hex ids, string values, integer or decimal-string
times) are handled inline and only unusual ones go through helper calls. When
a span does not fit, ``_explain`` re-walks it slowly to say which field is
wrong.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from agent_backtest.errors import InputError
from agent_backtest.trace.raw import RawEvent, RawSpan, ReadItem, normalize_id, to_int
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "otlp_json"
DESCRIPTION = (
    "OTLP JSON / JSON Lines (Collector file exporter, Tempo export; resourceSpans or batches)"
)

_TOP_KEYS = ("resourceSpans", "batches")
_OTHER_SIGNALS = ("resourceLogs", "resourceMetrics", "resourceProfiles")
_FIX = "expected an OTLP ExportTraceServiceRequest as the Collector file exporter writes it"

_is_trace_hex = re.compile(r"[0-9a-f]{32}").fullmatch
_is_span_hex = re.compile(r"[0-9a-f]{16}").fullmatch
_NO_SPAN = "0000000000000000"

# Integers are the OTLP enum numbers; strings are the proto enum names, the
# short names some exporters write, and the lower-case forms.
_KIND: dict[Any, str | None] = {0: None, 1: "internal", 2: "server", 3: "client"}
_KIND.update({4: "producer", 5: "consumer"})
for _num, _name in list(_KIND.items()):
    _up = (_name or "unspecified").upper()
    for _spelling in (f"SPAN_KIND_{_up}", _up, _up.lower(), _up.title(), str(_num)):
        _KIND[_spelling] = _name

# Integers follow OTLP >= 0.7 (0 unset, 1 ok, 2 error): Tempo's legacy-named
# exports already use these numbers. Older gRPC-style names are all failures.
_STATUS: dict[Any, str] = {0: "unset", 1: "ok", 2: "error", "0": "unset", "1": "ok", "2": "error"}
for _code in ("unset", "ok", "error"):
    for _spelling in (f"STATUS_CODE_{_code.upper()}", _code.upper(), _code, _code.title()):
        _STATUS[_spelling] = _code
_GRPC_FAILURES = (
    "CANCELLED UNKNOWN_ERROR INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS"
    " PERMISSION_DENIED RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE"
    " UNIMPLEMENTED INTERNAL_ERROR UNAVAILABLE DATA_LOSS UNAUTHENTICATED"
)
_STATUS.update(dict.fromkeys((f"STATUS_CODE_{n}" for n in _GRPC_FAILURES.split()), "error"))


def sniff(head: Head) -> bool:
    first = head.first_value
    if isinstance(first, dict):
        if "trace" in first and isinstance(first["trace"], dict):
            first = first["trace"]
        return any(isinstance(first.get(key), list) for key in _TOP_KEYS)
    if isinstance(first, list):
        return bool(first) and isinstance(first[0], dict) and "resourceSpans" in first[0]
    # A bad byte in the head must not hide the format: reading reports it with its line.
    text = head.text if head.text is not None else head.raw.decode("utf-8", "replace")
    if text.lstrip()[:1] not in ("{", "["):
        return False
    # A document larger than the head does not parse; its markers still show.
    window = text[:8192]
    return '"resourceSpans"' in window or (
        '"batches"' in window
        and ('"scopeSpans"' in window or '"instrumentationLibrarySpans"' in window)
    )


def read(source: FileSource) -> Iterator[ReadItem]:
    if _looks_like_json_lines(source):
        for line, value in source.iter_json_lines():
            yield from _read_value(source, value, line)
    else:
        yield from _read_value(source, source.read_document(), None)


def _looks_like_json_lines(source: FileSource) -> bool:
    """The Collector writes one compact request per line; pretty documents open with a lone brace.

    A first line longer than the probe is treated as JSON Lines too: a document
    on one line reads the same either way, and this never loads it twice.
    """
    probe = 1 << 16
    with source.open() as handle:
        while True:
            raw_line = handle.readline(probe)
            if not raw_line:
                return False
            if len(raw_line) == probe and not raw_line.endswith(b"\n"):
                return True
            line = raw_line.strip()
            if line:
                return len(line) > 1 and line[:1] == b"{" and line[-1:] not in (b"{", b"[", b",")


def _read_value(source: FileSource, value: Any, line: int | None) -> list[ReadItem]:
    if isinstance(value, list):  # a document that is an array of requests
        return [item for request in value for item in _read_value(source, request, line)]
    if isinstance(value, dict):
        if isinstance(value.get("trace"), dict):  # Tempo API v2 wraps the request
            value = value["trace"]
        resource_spans = value.get("resourceSpans")
        if resource_spans is None:
            resource_spans = value.get("batches")
        if isinstance(resource_spans, list):
            return _read_request(source, resource_spans, line)
        if resource_spans is not None:
            found = f"resourceSpans is a {type(resource_spans).__name__}, not a list"
            source.skip_or_raise(source.fail(found, line=line, field="resourceSpans", fix=_FIX))
            return []
        if any(key in value for key in _OTHER_SIGNALS):
            source.warnings.append(
                f"{source.path}:{line or 1}: skipped a logs/metrics record in a trace file"
            )
            return []
        found = f"keys {sorted(value)[:5]}"
    else:
        found = type(value).__name__
    source.skip_or_raise(source.fail(f"no resourceSpans or batches ({found})", line=line, fix=_FIX))
    return []


def _read_request(
    source: FileSource, resource_spans: list[Any], line: int | None
) -> list[ReadItem]:
    # A list, not a generator: one request is small, and yielding through
    # nested generators costs more per span than the list does.
    items: list[ReadItem] = []
    append = items.append
    kinds = _KIND
    statuses = _STATUS
    is_trace_hex = _is_trace_hex
    is_span_hex = _is_span_hex
    for rs in resource_spans:
        try:
            resource_obj = rs.get("resource")
            resource = _attributes(resource_obj.get("attributes")) if resource_obj else {}
            scope_list = rs.get("scopeSpans")
            if scope_list is None:
                scope_list = rs.get("instrumentationLibrarySpans") or ()
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            source.skip_or_raise(
                source.fail(f"malformed resourceSpans entry ({exc})", line=line, fix=_FIX)
            )
            continue
        for ss in scope_list:
            try:
                scope_obj = ss.get("scope")
                if scope_obj is None:
                    scope_obj = ss.get("instrumentationLibrary")
                scope = scope_obj.get("name") or None if scope_obj else None
                spans = ss.get("spans") or ()
            except (AttributeError, TypeError) as exc:
                source.skip_or_raise(
                    source.fail(f"malformed scopeSpans entry ({exc})", line=line, fix=_FIX)
                )
                continue
            for sp in spans:
                try:
                    trace_id: Any = sp["traceId"]
                    if not is_trace_hex(trace_id):
                        trace_id = normalize_id(trace_id, 32)
                        if trace_id is None:
                            raise ValueError("traceId")
                    span_id: Any = sp["spanId"]
                    if not is_span_hex(span_id):
                        span_id = normalize_id(span_id, 16)
                        if span_id is None:
                            raise ValueError("spanId")
                    parent_id: Any = sp.get("parentSpanId")
                    if not parent_id or parent_id == _NO_SPAN:
                        parent_id = None
                    elif not is_span_hex(parent_id):
                        parent_id = normalize_id(parent_id, 16)
                    start = sp["startTimeUnixNano"]
                    if type(start) is not int:
                        start = (
                            int(start) if type(start) is str and start.isdigit() else to_int(start)
                        )
                    end = sp.get("endTimeUnixNano", start)
                    if type(end) is not int:
                        end = int(end) if type(end) is str and end.isdigit() else to_int(end)
                    name = sp.get("name", "")
                    if type(name) is not str:
                        raise TypeError("name")
                    attrs = sp.get("attributes")
                    status = sp.get("status")
                    if status:
                        status_code = statuses[status.get("code", 0)]
                        status_message = status.get("message") or None
                    else:
                        status_code = "unset"
                        status_message = None
                    event_list = sp.get("events")
                    raw = RawSpan(
                        trace_id,
                        span_id,
                        parent_id,
                        name,
                        start,
                        end,
                        kinds[sp.get("kind", 0)],
                        status_code,
                        status_message,
                        _attributes(attrs) if attrs else {},
                        _events(event_list) if event_list else [],
                        resource,
                        scope,
                    )
                except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                    source.skip_or_raise(_explain(source, sp, line, exc))
                    continue
                append(ReadItem(raw, None, None, line))
    return items


def _attributes(kvs: Iterable[Any]) -> dict[str, Any]:
    """OTLP ``[{key, value: AnyValue}]`` -> a flat dict; strings (most values) stay inline."""
    out: dict[str, Any] = {}
    for kv in kvs:
        value = kv.get("value")
        if value:
            text = value.get("stringValue")
            out[kv["key"]] = text if text is not None else _any_value(value)
        else:
            out[kv["key"]] = None
    return out


def _any_value(value: dict[str, Any]) -> Any:
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        number = value["intValue"]
        if type(number) is int:
            return number
        return int(number) if type(number) is str and number.isdigit() else to_int(number)
    if "doubleValue" in value:
        return float(value["doubleValue"])  # proto JSON spells NaN/Infinity as strings
    if "boolValue" in value:
        flag = value["boolValue"]
        if type(flag) is bool:
            return flag
        if flag in ("true", "false"):
            return flag == "true"
        raise TypeError(f"boolValue {flag!r}")
    if "arrayValue" in value:
        return [_any_value(item) for item in (value["arrayValue"] or {}).get("values") or ()]
    if "kvlistValue" in value:
        return _attributes((value["kvlistValue"] or {}).get("values") or ())
    if "bytesValue" in value:
        # Kept as the base64 text: plain values must survive a JSON round trip.
        data = value["bytesValue"]
        base64.b64decode(data, validate=True)
        return data
    raise ValueError(f"unknown AnyValue {sorted(value)}")


def _events(events: list[Any]) -> list[RawEvent]:
    out = []
    for event in events:
        time = event.get("timeUnixNano")
        attrs = event.get("attributes")
        out.append(
            RawEvent(
                event.get("name") or "",
                None if time is None else time if type(time) is int else to_int(time),
                _attributes(attrs) if attrs else {},
            )
        )
    return out


def _explain(source: FileSource, sp: Any, line: int | None, exc: Exception) -> InputError:
    """Slow path: find the field that broke the fast loop and say what was expected."""
    if not isinstance(sp, dict):
        return source.fail(f"expected a span object, found {type(sp).__name__}", line=line)
    span_ref = f"span {sp.get('spanId')!r}" if isinstance(sp.get("spanId"), str) else "a span"
    for key, width in (("traceId", 32), ("spanId", 16)):
        if key not in sp:
            return source.fail(f"{span_ref} has no {key}", line=line, field=key, fix=_FIX)
        if not isinstance(sp[key], str) or normalize_id(sp[key], width) is None:
            return source.fail(
                f"{span_ref}: {key} {sp[key]!r} is not a hex or base64 id",
                line=line,
                field=key,
                fix=f"{key} must be {width} hex characters",
            )
    for key in ("startTimeUnixNano", "endTimeUnixNano"):
        if key not in sp and key == "startTimeUnixNano":
            return source.fail(f"{span_ref} has no {key}", line=line, field=key, fix=_FIX)
        if key in sp:
            try:
                to_int(sp[key])
            except (TypeError, ValueError):
                return source.fail(
                    f"{span_ref}: {key} {sp[key]!r} is not an integer",
                    line=line,
                    field=key,
                    fix="times are integer nanoseconds, as a number or a decimal string",
                )
    if sp.get("kind", 0) not in _KIND:
        return source.fail(
            f"{span_ref}: unknown kind {sp['kind']!r}",
            line=line,
            field="kind",
            fix="one of 0-5 or SPAN_KIND_INTERNAL/SERVER/CLIENT/PRODUCER/CONSUMER",
        )
    status = sp.get("status")
    if status and (not isinstance(status, dict) or status.get("code", 0) not in _STATUS):
        return source.fail(
            f"{span_ref}: unknown status {status!r}",
            line=line,
            field="status.code",
            fix="one of 0/1/2 or STATUS_CODE_UNSET/OK/ERROR",
        )
    return source.fail(
        f"{span_ref} is malformed: {type(exc).__name__} {exc}",
        line=line,
        fix="attributes must be [{key, value: AnyValue}] and name a string",
    )
