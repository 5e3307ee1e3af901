"""RawSpan -> Span: apply the attribute conventions by priority.

Placeholder decoder: kind and generic input/output only. The full OpenInference,
GenAI and OpenLLMetry decoders replace this module's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_backtest.trace.model import (
    Annotation,
    Span,
    SpanEvent,
    SpanKind,
    SpanStatus,
    StatusCode,
)
from agent_backtest.trace.raw import RawSpan


@dataclass(slots=True)
class DecodedSpan:
    span: Span
    annotations: list[Annotation] = field(default_factory=list)
    session_id: str | None = None
    agent_name: str | None = None
    agent_id: str | None = None


def decode_span(raw: RawSpan) -> DecodedSpan:
    attrs = raw.attributes
    kind_text = raw.kind_hint or attrs.get("openinference.span.kind")
    try:
        kind = SpanKind(str(kind_text).upper()) if kind_text else SpanKind.UNKNOWN
    except ValueError:
        kind = SpanKind.UNKNOWN
    span = Span.model_construct(
        span_id=raw.span_id,
        parent_id=raw.parent_id,
        kind=kind,
        name=raw.name,
        start_ns=raw.start_ns,
        end_ns=raw.end_ns,
        status=SpanStatus.model_construct(
            code=StatusCode(raw.status_code), message=raw.status_message
        ),
        input=attrs.get("input.value"),
        output=attrs.get("output.value"),
        llm=None,
        tool=None,
        attributes=attrs,
        events=[
            SpanEvent.model_construct(name=e.name, time_ns=e.time_ns, attributes=e.attributes)
            for e in raw.events
        ],
    )
    return DecodedSpan(span=span, session_id=raw.session_hint or attrs.get("session.id"))
