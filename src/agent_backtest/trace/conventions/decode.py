"""RawSpan -> Span: apply the attribute conventions by priority.

Priority, highest first (a higher convention's value wins; lower ones only
fill gaps, so a span carrying several conventions decodes like the clean one):

0. fields a reader preset (``RawSpan.preset_*``, ``kind_hint``, ``session_hint``)
1. OpenInference            (``openinference.py``)
2. OTel GenAI, current      (``genai.py``)
3. OTel GenAI, deprecated   (``genai_deprecated.py``, incl. per-message events)
4. OpenLLMetry indexed keys (``openllmetry.py``)
5. vendor keys              (``vendor.py``: Google ADK, any-agent, ...)

This runs on every span of multi-GB files: one pass over the keys
(``index_keys``), ``dict.get`` for plain keys, nothing for absent conventions,
message parsing only on LLM spans, and the slot-filling builders of
``construct.py`` instead of validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_backtest.trace.conventions import annotations as span_annotations
from agent_backtest.trace.conventions import (
    genai,
    genai_deprecated,
    openinference,
    openllmetry,
    vendor,
)
from agent_backtest.trace.conventions.construct import (
    build,
    build_llm_call,
    build_span,
    build_status,
    build_tool_call,
    build_usage,
)
from agent_backtest.trace.conventions.facts import Facts, KeyIndex, index_keys
from agent_backtest.trace.conventions.messages import parse_arguments
from agent_backtest.trace.conventions.values import dumps, loads_if_json
from agent_backtest.trace.model import (
    Annotation,
    LLMCall,
    Span,
    SpanEvent,
    SpanKind,
    SpanStatus,
    StatusCode,
    ToolCall,
    ToolCallRequest,
)
from agent_backtest.trace.raw import RawSpan


@dataclass(slots=True)
class DecodedSpan:
    span: Span
    annotations: list[Annotation] = field(default_factory=list)
    session_id: str | None = None
    agent_name: str | None = None
    agent_id: str | None = None


_STATUS = {"ok": StatusCode.OK, "error": StatusCode.ERROR, "unset": StatusCode.UNSET}
# GenAI span names are "{operation} {target}"; only the unambiguous operations are
# trusted from a name alone, plus Google ADK's fixed "call_llm".
_NAME_PREFIXES = (
    ("execute_tool", SpanKind.TOOL),
    ("invoke_agent", SpanKind.AGENT),
    ("create_agent", SpanKind.AGENT),
)
_NAMES = {"call_llm": SpanKind.LLM}


def decode_span(raw: RawSpan) -> DecodedSpan:
    attrs = raw.attributes
    ki = index_keys(attrs)
    f = Facts()
    f.kind = _declared_kind(raw, ki)
    if raw.preset_llm is not None:
        f.seed_llm(raw.preset_llm)
    if raw.preset_tool is not None:
        f.seed_tool(raw.preset_tool)
    f.input = raw.preset_input
    f.output = raw.preset_output
    f.session_id = raw.session_hint

    openinference.decode(attrs, ki, f)
    if ki.has_gen_ai:
        genai.decode(attrs, ki, f)
        genai_deprecated.decode(attrs, f)
    if raw.events:
        genai_deprecated.decode_events(raw.events, f)
    if ki.has_gen_ai or ki.has_llm or ki.has_traceloop:
        openllmetry.decode(attrs, ki, f)
    vendor.decode(attrs, ki, f)

    if f.kind is None:
        f.kind = _inferred_kind(raw, f)
    return _build(raw, ki, f)


def _declared_kind(raw: RawSpan, ki: KeyIndex) -> SpanKind | None:
    """The kind a convention states outright (no guessing from content yet)."""
    if raw.kind_hint:
        hinted = openinference.SPAN_KINDS.get(raw.kind_hint.upper())
        if hinted is not None:
            return hinted
    attrs = raw.attributes
    kind = openinference.kind_of(attrs)
    if kind is None and ki.has_gen_ai:
        kind = genai.kind_of(attrs)
    if kind is None and (ki.has_traceloop or ki.has_llm):
        kind = openllmetry.kind_of(attrs, ki)
    if kind is None:
        name = raw.name
        kind = _NAMES.get(name)
        for prefix, candidate in _NAME_PREFIXES:
            if (
                kind is None
                and name.startswith(prefix)
                and name[len(prefix) : len(prefix) + 1] in ("", " ")
            ):
                kind = candidate
    return kind


def _inferred_kind(raw: RawSpan, f: Facts) -> SpanKind:
    """No convention named the kind: decide from what the span carries, conservatively."""
    if raw.preset_llm is not None or f.has_llm_evidence():
        return SpanKind.LLM
    if raw.preset_tool is not None or f.tool_name is not None:
        return SpanKind.TOOL
    return SpanKind.UNKNOWN


def _build(raw: RawSpan, ki: KeyIndex, f: Facts) -> DecodedSpan:
    status = _status(raw, f)
    kind = f.kind
    assert kind is not None  # decode_span always settles the kind first
    events = raw.events
    span = build_span(
        raw.span_id,
        raw.parent_id,
        kind,
        raw.name,
        raw.start_ns,
        raw.end_ns,
        status,
        f.input,
        f.output,
        _llm(f) if kind is SpanKind.LLM or raw.preset_llm is not None else None,
        _tool(raw, f, status) if kind is SpanKind.TOOL or raw.preset_tool is not None else None,
        raw.attributes,
        [build(SpanEvent, name=e.name, time_ns=e.time_ns, attributes=e.attributes) for e in events]
        if events
        else [],
    )
    found: list[Annotation] = []
    if ki.annotations is not None:
        found = span_annotations.from_attributes(raw, ki.annotations, f.session_id)
    if events:
        for event in events:
            if event.name == span_annotations.EVALUATION_EVENT:
                annotation = span_annotations.from_event(raw, event)
                if annotation is not None:
                    found.append(annotation)
    return DecodedSpan(span, found, f.session_id, f.agent_name, f.agent_id)


def _status(raw: RawSpan, f: Facts) -> SpanStatus:
    code = _STATUS.get(raw.status_code, StatusCode.UNSET)
    message = raw.status_message
    if code is StatusCode.OK or (code is StatusCode.UNSET and f.error_type is None):
        return build_status(code, message)
    if code is StatusCode.UNSET and f.error_type is not None:
        # GenAI sets error.type exactly when the operation failed.
        code, message = StatusCode.ERROR, message or f.error_type
    if code is StatusCode.ERROR and not message:
        message = _exception_message(raw) or f.error_type
    return build_status(code, message)


def _exception_message(raw: RawSpan) -> str | None:
    for event in raw.events:
        if event.name == "exception":
            attrs = event.attributes
            message = attrs.get("exception.message")
            typ = attrs.get("exception.type")
            if typ and message:
                return f"{typ}: {message}"
            if typ or message:
                return str(typ or message)
            return "exception"
    return None


def _llm(f: Facts) -> LLMCall:
    output = f.output_messages or []
    calls: list[ToolCallRequest] = [c for m in output for c in m.tool_calls]
    total = f.total_tokens
    if total is None and f.input_tokens is not None and f.output_tokens is not None:
        total = f.input_tokens + f.output_tokens
    return build_llm_call(
        f.provider,
        f.model,
        f.input_messages or [],
        output,
        calls,
        build_usage(f.input_tokens, f.output_tokens, total, f.cache_read, f.cache_write),
        f.cost,
        f.finish_reasons or [],
        f.invocation_parameters or {},
    )


def _tool(raw: RawSpan, f: Facts, status: SpanStatus) -> ToolCall:
    name = f.tool_name
    if name is None:
        name = raw.name.removeprefix("execute_tool ").strip() or raw.name
    arguments = f.tool_arguments
    if isinstance(arguments, str):
        raw_args: str | None = arguments
        parsed = parse_arguments(arguments)
    elif arguments is None:
        raw_args, parsed = None, None
    else:
        raw_args, parsed = dumps(arguments), arguments
    result = loads_if_json(f.tool_result)
    return build_tool_call(
        name,
        f.tool_call_id,
        raw_args,
        parsed,
        result,
        f.tool_error or _tool_error(raw, f, status, result),
    )


def _tool_error(raw: RawSpan, f: Facts, status: SpanStatus, result: object) -> str | None:
    if status.code is StatusCode.ERROR:
        return status.message or "error"
    exception = _exception_message(raw)
    if exception is not None:
        return exception  # the tool raised, even if the instrumentation left the status unset
    if isinstance(result, dict) and result.get("isError") is True:
        # MCP reports tool failures in the result, not as a protocol error.
        content = result.get("content")
        texts = (
            [str(c.get("text")) for c in content or () if isinstance(c, dict) and c.get("text")]
            if isinstance(content, list)
            else []
        )
        return "".join(texts) or "tool reported isError"
    return None
