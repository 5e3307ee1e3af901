"""OpenTelemetry GenAI semantic conventions, current version (second priority).

Keys from the OTel GenAI spans/attribute registry: ``gen_ai.operation.name``,
``gen_ai.provider.name``, ``gen_ai.input.messages``/``gen_ai.output.messages``
(``parts`` messages, JSON text or structured), ``gen_ai.usage.*``,
``gen_ai.tool.*``, ``gen_ai.agent.*``, ``gen_ai.conversation.id``, ``error.type``.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.conventions.facts import Facts, KeyIndex
from agent_backtest.trace.conventions.messages import (
    finish_reasons_of,
    parse_messages,
    system_message,
)
from agent_backtest.trace.conventions.values import as_int, as_str, as_str_list, loads
from agent_backtest.trace.model import SpanKind

OPERATIONS: dict[str, SpanKind] = {
    "chat": SpanKind.LLM,
    "text_completion": SpanKind.LLM,
    "generate_content": SpanKind.LLM,
    "call_llm": SpanKind.LLM,  # any-agent's spelling
    "execute_tool": SpanKind.TOOL,
    "invoke_agent": SpanKind.AGENT,
    "create_agent": SpanKind.AGENT,
    "invoke_workflow": SpanKind.CHAIN,
    "embeddings": SpanKind.EMBEDDING,
    "retrieval": SpanKind.RETRIEVER,
}

_REQUEST = len("gen_ai.request.")


def kind_of(attrs: dict[str, Any]) -> SpanKind | None:
    op = attrs.get("gen_ai.operation.name")
    return OPERATIONS.get(str(op)) if op else None


def decode(attrs: dict[str, Any], ki: KeyIndex, f: Facts) -> None:
    get = attrs.get
    if f.session_id is None:
        f.session_id = as_str(get("gen_ai.conversation.id"))
    if f.agent_name is None:
        f.agent_name = as_str(get("gen_ai.agent.name"))
    if f.agent_id is None:
        f.agent_id = as_str(get("gen_ai.agent.id"))
    if f.error_type is None:
        f.error_type = as_str(get("error.type"))
    if f.wants_llm:
        _llm(attrs, ki, f)
    if f.wants_tool:
        _tool(attrs, f)


def _llm(attrs: dict[str, Any], ki: KeyIndex, f: Facts) -> None:
    get = attrs.get
    if f.model is None:
        f.model = as_str(get("gen_ai.response.model") or get("gen_ai.request.model"))
    if f.provider is None:
        f.provider = as_str(get("gen_ai.provider.name") or get("gen_ai.system"))
    if f.input_tokens is None:
        f.input_tokens = as_int(get("gen_ai.usage.input_tokens"))
    if f.output_tokens is None:
        f.output_tokens = as_int(get("gen_ai.usage.output_tokens"))
    if f.total_tokens is None:
        f.total_tokens = as_int(get("gen_ai.usage.total_tokens"))
    if f.cache_read is None:
        f.cache_read = as_int(get("gen_ai.usage.cache_read.input_tokens"))
    if f.cache_write is None:
        f.cache_write = as_int(get("gen_ai.usage.cache_creation.input_tokens"))
    if f.finish_reasons is None:
        reasons = get("gen_ai.response.finish_reasons")
        if reasons is not None:
            f.finish_reasons = [r.lower() for r in as_str_list(reasons)]
    if f.invocation_parameters is None and ki.gen_ai_request is not None:
        params = {k[_REQUEST:]: attrs[k] for k in ki.gen_ai_request if k != "gen_ai.request.model"}
        f.invocation_parameters = params or None
    if f.input_messages is None and (raw_in := get("gen_ai.input.messages")) is not None:
        messages = parse_messages(raw_in)
        system = _system_text(get("gen_ai.system_instructions"))
        if system:
            messages.insert(0, system_message(system))
        f.input_messages = messages or None
    if f.output_messages is None or f.finish_reasons is None:
        raw_out = get("gen_ai.output.messages")
        if raw_out is not None:
            items = loads(raw_out)
            if f.output_messages is None:
                f.output_messages = parse_messages(items) or None
            if f.finish_reasons is None:
                f.finish_reasons = finish_reasons_of(items) or None


def _system_text(value: Any) -> str | None:
    """``gen_ai.system_instructions``: a list of parts (usually one ``text`` part)."""
    if value is None:
        return None
    parsed = loads(value)
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list):
        return value if isinstance(value, str) else None
    texts = [
        str(p.get("content", p.get("text", "")))
        for p in parsed
        if isinstance(p, dict) and p.get("type", "text") == "text"
    ]
    return "".join(texts) or None


def _tool(attrs: dict[str, Any], f: Facts) -> None:
    get = attrs.get
    if f.tool_name is None:
        f.tool_name = as_str(get("gen_ai.tool.name"))
    if f.tool_call_id is None:
        f.tool_call_id = as_str(get("gen_ai.tool.call.id"))
    if f.tool_arguments is None:
        f.tool_arguments = get("gen_ai.tool.call.arguments")
    if f.tool_result is None:
        f.tool_result = get("gen_ai.tool.call.result")
