"""OTLP protobuf files: the Collector file exporter's ``format: proto``, or one raw request.

With ``format: proto`` the file exporter writes each ``ExportTraceServiceRequest``
preceded by its size as a 4-byte big-endian unsigned integer (``file_writer.go``,
``exportMessageAsBuffer``), so the file streams frame by frame. A file holding a
single serialized request without a prefix (what ``SerializeToString`` or an
OTLP/HTTP request body gives) is read too. Decoding needs ``opentelemetry-proto``,
an optional dependency; detection does not, so a user without it is told what
to install instead of "unknown format".
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agent_backtest.trace.raw import RawEvent, RawSpan, ReadItem
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "otlp_proto"
DESCRIPTION = (
    "OTLP protobuf (Collector file exporter format: proto, or one ExportTraceServiceRequest)"
)

_RESOURCE_SPANS_TAG = 0x0A  # ExportTraceServiceRequest field 1, length-delimited
# ResourceSpans fields: resource (1), scope_spans (2), schema_url (3), all length-delimited.
_RESOURCE_SPANS_FIELDS = frozenset((0x0A, 0x12, 0x1A))
_MAX_FRAME = 1 << 30
_KINDS = (None, "internal", "server", "client", "producer", "consumer")
_STATUSES = ("unset", "ok", "error")
_FIX = "expected OTLP protobuf as the Collector file exporter writes it (format: proto)"


def sniff(head: Head) -> bool:
    raw = head.raw
    if not raw or not _looks_binary(raw):
        return False
    if raw[0] == _RESOURCE_SPANS_TAG:
        return _walk_fields(raw, 0, len(raw) if head.complete else sys.maxsize, head.complete)
    if len(raw) < 5 or raw[4] != _RESOURCE_SPANS_TAG:
        return False
    size = int.from_bytes(raw[:4], "big")
    return 0 < size <= _MAX_FRAME and _walk_fields(raw, 4, 4 + size, head.complete)


def _looks_binary(raw: bytes) -> bool:
    # Text never has these control bytes; protobuf always does (tags 0x12, 0x1A,
    # small lengths, random id bytes), so text files are never taken for protobuf.
    return any(byte < 0x09 or 0x0E <= byte < 0x20 for byte in raw[:4096])


def _walk_fields(raw: bytes, pos: int, end: int, complete: bool) -> bool:
    """Every top-level field before ``end`` is a resource_spans that starts like one.

    ``end`` may lie beyond the head; fields are then checked as far as the head goes.
    """
    while pos < min(end, len(raw)):
        if raw[pos] != _RESOURCE_SPANS_TAG:
            return False
        length, pos = _varint(raw, pos + 1)
        if length is None:
            return not complete  # the length itself is cut off by the head
        if length and pos < len(raw) and raw[pos] not in _RESOURCE_SPANS_FIELDS:
            return False
        pos += length
    return pos <= end


def _varint(raw: bytes, pos: int) -> tuple[int | None, int]:
    result = shift = 0
    while pos < len(raw) and shift < 64:
        byte = raw[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
    return None, pos


def read(source: FileSource) -> Iterator[ReadItem]:
    request_type = _request_type(source)
    with source.open() as handle:
        first = handle.read(1)
        if not first:
            return
        if first[0] == _RESOURCE_SPANS_TAG:
            data = first + handle.read()
            if source.options.progress is not None:
                source.options.progress(len(data))
            yield from _decode(source, request_type, data, "the request")
            return
        prefix = first + handle.read(3)
        offset = 0
        frame = 0
        while prefix:
            frame += 1
            if len(prefix) < 4:
                source.skip_or_raise(_truncated(source, offset, frame))
                return
            size = int.from_bytes(prefix, "big")
            body = handle.read(size)
            if size > _MAX_FRAME or len(body) < size:
                source.skip_or_raise(_truncated(source, offset, frame))
                return
            yield from _decode(source, request_type, body, f"message {frame} (byte {offset})")
            offset += 4 + size
            if source.options.progress is not None:
                source.options.progress(offset)
            prefix = handle.read(4)


def _truncated(source: FileSource, offset: int, frame: int) -> Any:
    return source.fail(
        f"message {frame} at byte {offset} is cut short: the file looks truncated",
        fix="re-export the file; each message is a 4-byte big-endian size then the request",
    )


def _request_type(source: FileSource) -> Any:
    try:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )
    except ImportError:
        raise source.fail(
            "reading OTLP protobuf needs the opentelemetry-proto package",
            fix="pip install 'agent-backtest[protobuf]'",
        ) from None
    return ExportTraceServiceRequest


def _decode(source: FileSource, request_type: Any, data: bytes, what: str) -> Iterator[ReadItem]:
    from google.protobuf.message import DecodeError

    request = request_type()
    try:
        request.ParseFromString(data)
    except DecodeError as exc:
        source.skip_or_raise(source.fail(f"{what} is not valid protobuf: {exc}", fix=_FIX))
        return
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name or None
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    source.skip_or_raise(
                        source.fail(
                            f"span {span.name!r} in {what} has a {len(span.trace_id)}-byte "
                            f"trace_id and a {len(span.span_id)}-byte span_id",
                            fix="OTLP ids are 16 and 8 bytes",
                        )
                    )
                    continue
                parent = span.parent_span_id
                yield ReadItem(
                    span=RawSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=parent.hex() if parent and any(parent) else None,
                        name=span.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        otel_kind=_KINDS[span.kind] if span.kind < len(_KINDS) else None,
                        status_code=_STATUSES[span.status.code]
                        if span.status.code < len(_STATUSES)
                        else "error",
                        status_message=span.status.message or None,
                        attributes=_attributes(span.attributes),
                        events=[
                            RawEvent(
                                name=event.name,
                                time_ns=event.time_unix_nano or None,
                                attributes=_attributes(event.attributes),
                            )
                            for event in span.events
                        ],
                        resource=resource,
                        scope=scope,
                    )
                )


def _attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in key_values}


def _any_value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        # base64 text, as OTLP JSON spells bytes: plain values survive a JSON round trip.
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)
