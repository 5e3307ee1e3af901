"""OpenLLMetry (Traceloop) indexed keys (fourth priority).

``gen_ai.prompt.{i}.{role,content,tool_call_id,tool_calls.{j}.{id,name,arguments}}``,
``gen_ai.completion.{i}.{role,content,finish_reason,tool_calls.{j}.*}``,
``llm.usage.total_tokens``, ``llm.request.type``, ``traceloop.span.kind`` and
``traceloop.entity.input``/``output``.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.conventions.construct import build
from agent_backtest.trace.conventions.facts import Facts, KeyIndex
from agent_backtest.trace.conventions.messages import make_tool_call
from agent_backtest.trace.conventions.values import as_int, as_str, loads
from agent_backtest.trace.model import Message, SpanKind, ToolCallRequest

TRACELOOP_KINDS = {
    "workflow": SpanKind.CHAIN,
    "task": SpanKind.CHAIN,
    "agent": SpanKind.AGENT,
    "tool": SpanKind.TOOL,
}
REQUEST_TYPES = {
    "chat": SpanKind.LLM,
    "completion": SpanKind.LLM,
    "embedding": SpanKind.EMBEDDING,
    "rerank": SpanKind.RERANKER,
}

_CALLS = len("tool_calls.")


def kind_of(attrs: dict[str, Any], ki: KeyIndex) -> SpanKind | None:
    if ki.has_traceloop and (kind := attrs.get("traceloop.span.kind")):
        found = TRACELOOP_KINDS.get(str(kind))
        if found is not None:
            return found
    if ki.has_llm and (request_type := attrs.get("llm.request.type")):
        return REQUEST_TYPES.get(str(request_type))
    return None


def decode(attrs: dict[str, Any], ki: KeyIndex, f: Facts) -> None:
    get = attrs.get
    if ki.has_traceloop:
        if f.input is None:
            f.input = get("traceloop.entity.input")
        if f.output is None:
            f.output = get("traceloop.entity.output")
        if f.kind is SpanKind.TOOL:
            if f.tool_name is None:
                f.tool_name = as_str(get("traceloop.entity.name"))
            if f.tool_arguments is None:
                f.tool_arguments = _entity_arguments(get("traceloop.entity.input"))
            if f.tool_result is None:
                f.tool_result = get("traceloop.entity.output")
    if not f.wants_llm:
        return
    if f.total_tokens is None and ki.has_llm:
        f.total_tokens = as_int(get("llm.usage.total_tokens"))
    if f.input_messages is None and ki.ol_prompt is not None:
        f.input_messages = [_message(g) for g in ki.ol_prompt] or None
    if ki.ol_completion is not None and (f.output_messages is None or f.finish_reasons is None):
        groups = ki.ol_completion
        if f.output_messages is None:
            f.output_messages = [_message(g, "assistant") for g in groups] or None
        if f.finish_reasons is None:
            reasons = [str(g["finish_reason"]).lower() for g in groups if g.get("finish_reason")]
            f.finish_reasons = reasons or None


def _message(flat: dict[str, Any], default_role: str = "user") -> Message:
    calls: dict[int, dict[str, Any]] = {}
    for sub, value in flat.items():
        if sub.startswith("tool_calls."):
            j, _, leaf = sub[_CALLS:].partition(".")
            if j.isdigit():
                calls.setdefault(int(j), {})[leaf] = value
    tool_calls: list[ToolCallRequest] = [
        make_tool_call(c.get("id"), c.get("name"), c.get("arguments"))
        for c in (calls[j] for j in sorted(calls))
    ]
    if not tool_calls and (name := flat.get("function_call.name")):
        tool_calls.append(make_tool_call(None, name, flat.get("function_call.arguments")))
    role = flat.get("role")
    return build(
        Message,
        role=str(role) if role else default_role,
        content=_content(flat.get("content")),
        tool_calls=tool_calls,
        tool_call_id=as_str(flat.get("tool_call_id")),
        name=as_str(flat.get("name")),
    )


def _content(value: Any) -> str | None:
    """OpenLLMetry writes list content (text parts) as JSON text; keep other text as is."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("[{"):
        parts = loads(value)
        if isinstance(parts, list) and all(isinstance(p, dict) and "type" in p for p in parts):
            return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")
    return value if isinstance(value, str) else str(value)


def _entity_arguments(value: Any) -> Any:
    """``traceloop.entity.input`` is ``{"args": [...], "kwargs": {...}}`` for decorated functions."""
    parsed = loads(value)
    if isinstance(parsed, dict) and "kwargs" in parsed and not parsed.get("args"):
        return parsed["kwargs"]
    return value
