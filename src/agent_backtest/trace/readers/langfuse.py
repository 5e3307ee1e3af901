"""Langfuse exports: traces with their observations and scores.

Shapes read (camelCase as the public API returns them, snake_case as the blob
storage export writes them):

- a trace detail (``GET /api/public/traces/{id}``, the UI's "Download JSON"):
  one trace with ``observations`` and ``scores`` embedded as objects;
- a list page ``{"data": [...], "meta": {...}}`` or a JSON array of traces,
  observations or scores (``/api/public/traces``, ``/observations``, ``/v2/scores``);
- JSON Lines with one trace detail, observation or score per line.

Mapping: an observation becomes a span (GENERATION -> LLM with the model,
messages, tool calls, usage and cost preset; TOOL -> TOOL with name, arguments,
result and error preset; SPAN -> CHAIN; EVENT -> a zero-length UNKNOWN span).
A trace has one root: when exactly one observation has no parent, that
observation is the root (a generic SPAN root becomes AGENT, since a Langfuse
trace is one agent run); otherwise a root AGENT span is made from the trace's
own name, input and output, with the trace id as its span id, and the
top-level observations hang under it (that is what the Langfuse UI shows).
Scores become annotations: source ANNOTATION -> human, EVAL -> llm, API -> code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from agent_backtest.trace.model import (
    Annotation,
    AnnotationTarget,
    AnnotatorKind,
)
from agent_backtest.trace.raw import RawSpan, ReadItem
from agent_backtest.trace.readers.langfuse_calls import field, llm_call, maybe_json, tool_call
from agent_backtest.trace.readers.sidecar import export_id
from agent_backtest.trace.readers.timestamps import to_ns
from agent_backtest.trace.source import FileSource, read_head

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "langfuse"
DESCRIPTION = "Langfuse traces, observations and scores (API JSON, UI download, JSONL)"

_KINDS = {
    "GENERATION": "LLM",
    "TOOL": "TOOL",
    "AGENT": "AGENT",
    "CHAIN": "CHAIN",
    "RETRIEVER": "RETRIEVER",
    "EMBEDDING": "EMBEDDING",
    "GUARDRAIL": "GUARDRAIL",
    "EVALUATOR": "EVALUATOR",
    "SPAN": "CHAIN",
    "EVENT": "UNKNOWN",
}
_ANNOTATORS = {
    "ANNOTATION": AnnotatorKind.HUMAN,
    "EVAL": AnnotatorKind.LLM,
    "API": AnnotatorKind.CODE,
}
_TRACE_MARKERS = (
    "observations",
    "scores",
    "htmlPath",
    "sessionId",
    "userId",
    "public",
    "projectId",
)
_TEXT_MARKERS = (b'"parentObservationId"', b'"htmlPath"', b'"usageDetails"', b'"observationId"')
_T = TypeVar("_T")


def classify(obj: Any) -> str | None:
    """'trace', 'observation', 'score' or None for one Langfuse record."""
    if not isinstance(obj, dict):
        return None
    if field(obj, "dataType") is not None or (
        obj.get("source") in _ANNOTATORS
        and "name" in obj
        and ("value" in obj or "stringValue" in obj)
    ):
        return "score"
    if "type" in obj and field(obj, "startTime") is not None:
        return "observation"
    if (
        "id" in obj
        and "timestamp" in obj
        and any(field(obj, m) is not None for m in _TRACE_MARKERS)
    ):
        return "trace"
    return None


def _records(value: Any) -> list[Any]:
    """The records in one top-level JSON value: a page, an array, a session or one record."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("data", "traces"):
            if isinstance(value.get(key), list) and classify(value) is None:
                return list(value[key])
    return [value]


def sniff(head: Head) -> bool:
    first = head.first_value
    if first is not None:
        records = _records(first)
        return bool(records) and classify(records[0]) is not None
    # A pretty-printed document bigger than the head: look for keys only Langfuse uses.
    text = head.raw.lstrip()
    return text[:1] in (b"{", b"[") and any(marker in head.raw for marker in _TEXT_MARKERS)


def read(source: FileSource) -> Iterator[ReadItem]:
    for line, value in _values(source):
        for record in _records(value):
            kind = classify(record)
            if kind == "trace":
                yield from _trace_items(source, record, line)
            elif kind == "observation":
                span = _checked(source, line, partial(_span, record, None, None))
                if span is not None:
                    yield ReadItem(span=span, line=line)
            elif kind == "score":
                annotation = _checked(source, line, partial(_annotation, record, None))
                if annotation is not None:
                    yield ReadItem(annotation=annotation, line=line)
            else:
                source.skip_or_raise(
                    source.fail(
                        "not a Langfuse trace, observation or score",
                        line=line,
                        fix="expected objects from the Langfuse public API or its exports",
                    )
                )


def _values(source: FileSource) -> Iterator[tuple[int | None, Any]]:
    """JSON Lines when the first line is a whole JSON value, else one document."""
    head = read_head(source.path)
    first_line = head.split(b"\n", 1)[0].strip()
    is_lines = False
    if first_line[:1] == b"{":
        try:
            orjson.loads(first_line)
            is_lines = True
        except orjson.JSONDecodeError:
            pass
    if is_lines:
        yield from source.iter_json_lines()
    else:
        yield None, source.read_document()


def _checked(source: FileSource, line: int | None, build: Callable[[], _T]) -> _T | None:
    """Run ``build``; a wrong field type becomes an InputError naming file and line."""
    try:
        return build()
    except _FieldError as bad:
        source.skip_or_raise(source.fail(bad.what, line=line, field=bad.field, fix=bad.fix))
    return None


class _FieldError(Exception):
    def __init__(self, field: str, what: str, fix: str | None = None) -> None:
        super().__init__(what)
        self.field, self.what, self.fix = field, what, fix


def _time(obj: dict[str, Any], key: str, required: bool = True) -> int | None:
    value = field(obj, key)
    if value is None:
        if required:
            raise _FieldError(key, f"missing {key!r}", "every observation has a start time")
        return None
    try:
        return to_ns(value)
    except (TypeError, ValueError) as exc:
        raise _FieldError(key, str(exc), "expected an ISO-8601 timestamp") from None


def _trace_items(source: FileSource, trace: dict[str, Any], line: int | None) -> Iterator[ReadItem]:
    trace_id = export_id(trace.get("id"), 32)
    if trace_id is None:
        source.skip_or_raise(source.fail("trace without 'id'", line=line, field="id"))
        return
    session = field(trace, "sessionId")
    embedded = [o for o in trace.get("observations") or [] if isinstance(o, dict)]
    spans: list[RawSpan] = []
    for obs in embedded:
        span = _checked(source, line, partial(_span, obs, trace_id, session))
        if span is not None:
            spans.append(span)
    ids = {s.span_id for s in spans}
    top = [s for s in spans if s.parent_id is None or s.parent_id not in ids]
    if len(top) == 1 and top[0].kind_hint in ("CHAIN", "AGENT"):
        top[0].kind_hint = "AGENT"
        top[0].parent_id = None
    else:
        root = _checked(source, line, partial(_trace_root, trace, trace_id, session, spans))
        if root is not None:
            for span in top:
                span.parent_id = root.span_id
            spans.insert(0, root)
    for span in spans:
        yield ReadItem(span=span, line=line)
    for score in trace.get("scores") or []:
        if isinstance(score, dict):
            annotation = _checked(source, line, partial(_annotation, score, trace_id))
            if annotation is not None:
                yield ReadItem(annotation=annotation, line=line)


def _trace_root(
    trace: dict[str, Any], trace_id: str, session: Any, spans: list[RawSpan]
) -> RawSpan:
    start = _time(trace, "timestamp")
    assert start is not None
    start = min([start, *(s.start_ns for s in spans)])
    end = max([start, *(s.end_ns for s in spans)])
    latency = trace.get("latency")
    if not spans and isinstance(latency, int | float):
        end = start + round(latency * 1_000_000_000)
    attributes = _attributes(trace, ("userId", "release", "version", "environment"))
    if trace.get("tags"):
        attributes["langfuse.tags"] = list(trace["tags"])
    return RawSpan(
        trace_id=trace_id,
        span_id=trace_id,
        parent_id=None,
        name=str(trace.get("name") or "trace"),
        start_ns=start,
        end_ns=end,
        attributes=attributes,
        kind_hint="AGENT",
        session_hint=session,
        preset_input=maybe_json(trace.get("input")),
        preset_output=maybe_json(trace.get("output")),
    )


def _attributes(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Langfuse fields with no normalized home, kept as ``langfuse.*`` attributes."""
    attributes = {f"langfuse.{k}": field(obj, k) for k in keys if field(obj, k) is not None}
    metadata = obj.get("metadata")
    if metadata not in (None, {}, ""):
        attributes["langfuse.metadata"] = metadata
    return attributes


def _span(obs: dict[str, Any], trace_id: str | None, session: Any) -> RawSpan:
    span_id = export_id(obs.get("id"), 16)
    if span_id is None:
        raise _FieldError("id", "observation without 'id'")
    trace_id = trace_id or export_id(field(obs, "traceId"), 32)
    if trace_id is None:
        raise _FieldError("traceId", "observation without 'traceId'", "export it with its trace")
    obs_type = str(obs.get("type") or "SPAN").upper()
    start = _time(obs, "startTime")
    assert start is not None
    end = _time(obs, "endTime", required=False)
    level = str(obs.get("level") or "DEFAULT").upper()
    status_message = field(obs, "statusMessage")
    kind = _KINDS.get(obs_type, "UNKNOWN")
    span = RawSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=export_id(field(obs, "parentObservationId"), 16),
        name=str(obs.get("name") or obs_type.lower()),
        start_ns=start,
        end_ns=end if end is not None and end >= start else start,
        status_code="error" if level == "ERROR" else "unset",
        status_message=status_message,
        attributes=_attributes(
            obs, ("type", "level", "version", "environment", "promptName", "promptVersion")
        ),
        kind_hint=kind,
        session_hint=session or field(obs, "sessionId"),
        preset_input=maybe_json(obs.get("input")),
        preset_output=maybe_json(obs.get("output")),
    )
    if obs_type in ("GENERATION", "EMBEDDING"):
        span.preset_llm = llm_call(obs, span.preset_input, span.preset_output)
    elif obs_type == "TOOL":
        span.preset_tool = tool_call(
            obs, span.name, span.preset_input, span.preset_output, level, status_message
        )
    return span


def _annotation(score: dict[str, Any], trace_id: str | None) -> Annotation:
    name = score.get("name")
    if not isinstance(name, str) or not name:
        raise _FieldError("name", "score without 'name'")
    trace_id = export_id(field(score, "traceId"), 32) or trace_id
    span_id = export_id(field(score, "observationId"), 16)
    session_id = field(score, "sessionId")
    data_type = str(field(score, "dataType") or "NUMERIC").upper()
    value = score.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _FieldError("value", f"expected a number, found {type(value).__name__}")
    label = field(score, "stringValue")
    # A CATEGORICAL value is only meaningful when a score config maps the
    # categories to numbers; without one Langfuse stores 0.
    if data_type == "CATEGORICAL" and field(score, "configId") is None:
        value = None
    source = str(score.get("source") or "API").upper()
    return Annotation.model_construct(
        target=AnnotationTarget.model_construct(
            kind="span" if span_id else "trace" if trace_id else "session",
            trace_id=trace_id,
            span_id=span_id,
            session_id=session_id,
            step=None,
        ),
        name=name,
        label=label if data_type != "NUMERIC" else None,
        score=float(value) if value is not None else None,
        explanation=score.get("comment"),
        annotator_kind=_ANNOTATORS.get(source, AnnotatorKind.CODE),
        annotator=field(score, "authorUserId"),
        classifier=None,
        source=f"langfuse:{source.lower()}",
        created_at=_text_time(score.get("timestamp") or field(score, "createdAt")),
    )


def _text_time(value: Any) -> str | None:
    return value if isinstance(value, str) else None
