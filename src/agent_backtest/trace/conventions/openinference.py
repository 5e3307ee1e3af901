"""OpenInference (Arize Phoenix) attributes: the highest-priority convention.

Keys follow ``Arize-ai/openinference`` ``spec/semantic_conventions.md``:
flattened lists such as ``llm.input_messages.{i}.message.role``, token counts
under ``llm.token_count.*`` and cost under ``llm.cost.*``.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.conventions.construct import build, build_message
from agent_backtest.trace.conventions.facts import Facts, KeyIndex, MessageSlots
from agent_backtest.trace.conventions.messages import make_tool_call, parse_input, parse_output
from agent_backtest.trace.conventions.values import as_float, as_int, as_str, loads
from agent_backtest.trace.model import Message, SpanKind, ToolCallRequest

SPAN_KINDS: dict[str, SpanKind] = {k.value: k for k in SpanKind}
SPAN_KINDS["PROMPT"] = SpanKind.CHAIN  # rendering a template is a step, not a model call

_CONTENTS = len("message.contents.")
_TOOL_CALLS = len("message.tool_calls.")


def kind_of(attrs: dict[str, Any]) -> SpanKind | None:
    value = attrs.get("openinference.span.kind")
    return SPAN_KINDS.get(str(value).upper()) if value else None


def decode(attrs: dict[str, Any], ki: KeyIndex, f: Facts) -> None:
    get = attrs.get
    value_in = get("input.value")
    value_out = get("output.value")
    if f.input is None:
        f.input = value_in
    if f.output is None:
        f.output = value_out
    if f.session_id is None:
        f.session_id = as_str(get("session.id"))
    if f.agent_name is None:
        f.agent_name = as_str(get("agent.name"))
    if ki.has_llm and f.wants_llm:
        _llm(attrs, ki, f)
    if f.kind is SpanKind.LLM:
        _messages_from_values(attrs, f, value_in, value_out)
    if f.wants_tool:
        _tool(attrs, f, value_in, value_out)


def _llm(attrs: dict[str, Any], ki: KeyIndex, f: Facts) -> None:
    get = attrs.get
    if f.model is None:
        f.model = as_str(
            get("llm.model_name") or get("llm.response.model_name") or get("llm.request.model_name")
        )
    if f.provider is None:
        f.provider = as_str(get("llm.provider") or get("llm.system"))
    if f.invocation_parameters is None:
        params = loads(get("llm.invocation_parameters"))
        if isinstance(params, dict):
            f.invocation_parameters = params
    # Token counts are ints from OTLP readers: skip the as_int call then (bool is not a count).
    if f.input_tokens is None:
        count = get("llm.token_count.prompt")
        f.input_tokens = count if type(count) is int else as_int(count)
    if f.output_tokens is None:
        count = get("llm.token_count.completion")
        f.output_tokens = count if type(count) is int else as_int(count)
    if f.total_tokens is None:
        count = get("llm.token_count.total")
        f.total_tokens = count if type(count) is int else as_int(count)
    if f.cache_read is None:
        f.cache_read = as_int(get("llm.token_count.prompt_details.cache_read"))
    if f.cache_write is None:
        f.cache_write = as_int(get("llm.token_count.prompt_details.cache_write"))
    if f.cost is None:
        f.cost = as_float(get("llm.cost.total"))
        if f.cost is None:
            prompt, completion = (
                as_float(get("llm.cost.prompt")),
                as_float(get("llm.cost.completion")),
            )
            if prompt is not None or completion is not None:
                f.cost = (prompt or 0.0) + (completion or 0.0)
    if f.finish_reasons is None and (reason := get("llm.finish_reason")):
        f.finish_reasons = [str(reason).lower()]
    if f.input_messages is None and ki.oi_input is not None:
        f.input_messages = [_message(g) for g in ki.oi_input]
    if f.output_messages is None and ki.oi_output is not None:
        f.output_messages = [_message(g) for g in ki.oi_output]
    if f.input_messages is None and (prompts := _prompts(attrs)):
        f.input_messages = prompts


# (part kind, index, leaf) for a key inside one message: "contents"/"tool_calls"
# with an integer index, or None. Memoized like KeyIndex's key kinds.
_Sub = tuple[str, int, str] | None
_SUB_CACHE_MAX = 1 << 14
_sub_cache: dict[str, _Sub] = {}
_UNSEEN: _Sub = ("", -1, "")


def _message(slots: MessageSlots) -> Message:
    """One ``llm.*_messages.{i}`` group (see ``MessageSlots``) -> ``Message``."""
    role, content, call_id, name, more = slots
    tool_calls: list[ToolCallRequest] = []
    if more is not None:  # contents or tool calls: the slower walk, only when present
        content, tool_calls = _structured(more, content)
    return build_message(
        str(role) if role else "user",
        None if content is None else str(content),
        tool_calls,
        None if call_id is None else str(call_id),
        None if name is None else str(name),
    )


def _sub_key(sub: str) -> _Sub:
    for prefix, kind in (("message.contents.", "contents"), ("message.tool_calls.", "tool_calls")):
        if sub.startswith(prefix):
            j, _, leaf = sub[len(prefix) :].partition(".")
            return (kind, int(j), leaf) if j.isdigit() else None
    return None


def _structured(flat: dict[str, Any], content: Any) -> tuple[Any, list[ToolCallRequest]]:
    parts: dict[int, list[Any]] | None = None
    calls: dict[int, dict[str, Any]] | None = None
    cache_get = _sub_cache.get
    for sub, value in flat.items():
        found = cache_get(sub, _UNSEEN)
        if found is _UNSEEN:
            found = _sub_key(sub)
            if len(_sub_cache) < _SUB_CACHE_MAX:
                _sub_cache[sub] = found
        if found is None:
            continue
        kind, j, leaf = found
        if kind == "tool_calls":
            if calls is None:
                calls = {j: {leaf: value}}
            elif (call := calls.get(j)) is None:
                calls[j] = {leaf: value}
            else:
                call[leaf] = value
        else:
            if parts is None:
                parts = {}
            part = parts.get(j)
            if part is None:
                part = parts[j] = [None, None]
            if leaf == "message_content.text":
                part[1] = value
            elif leaf == "message_content.type":
                part[0] = value
    if content is None and parts:
        texts = [
            str(text)
            for typ, text in (parts[j] for j in sorted(parts))
            if text is not None and typ in (None, "text")
        ]
        content = "".join(texts) if texts else None
    tool_calls = (
        [
            make_tool_call(
                c.get("tool_call.id"),
                c.get("tool_call.function.name"),
                c.get("tool_call.function.arguments"),
            )
            for c in (calls.values() if len(calls) == 1 else (calls[j] for j in sorted(calls)))
        ]
        if calls
        else []
    )
    if not tool_calls and (legacy := flat.get("message.function_call_name")):
        tool_calls.append(
            make_tool_call(None, legacy, flat.get("message.function_call_arguments_json"))
        )
    return content, tool_calls


def _prompts(attrs: dict[str, Any]) -> list[Message]:
    """Legacy completions API: ``llm.prompts.{i}.prompt.text`` (rarely more than one)."""
    out: list[Message] = []
    i = 0
    while (text := attrs.get(f"llm.prompts.{i}.prompt.text")) is not None:
        out.append(
            build(
                Message, role="user", content=str(text), tool_calls=[], tool_call_id=None, name=None
            )
        )
        i += 1
    return out


def _messages_from_values(attrs: dict[str, Any], f: Facts, value_in: Any, value_out: Any) -> None:
    """``input.value``/``output.value`` as request/response bodies, when nothing finer was given.

    Parsed only when needed, because on large spans these are the biggest values.
    """
    if f.input_messages is None and value_in is not None:
        messages = parse_input(value_in)
        if not messages and isinstance(value_in, str) and _is_text(attrs, "input", value_in):
            messages = [_plain("user", value_in)]
        f.input_messages = messages or None
    if value_out is not None and (f.output_messages is None or f.finish_reasons is None):
        if _is_text(attrs, "output", value_out):
            messages, reasons = [_plain("assistant", str(value_out))], list[str]()
        else:
            messages, reasons = parse_output(value_out)
        if f.output_messages is None:
            f.output_messages = messages or None
        if f.finish_reasons is None:
            f.finish_reasons = reasons or None


def _is_text(attrs: dict[str, Any], side: str, value: Any) -> bool:
    mime = attrs.get(f"{side}.mime_type")
    if mime is not None:
        return bool(mime != "application/json")
    return isinstance(value, str) and value.lstrip()[:1] not in ("{", "[")


def _plain(role: str, text: str) -> Message:
    return build(Message, role=role, content=text, tool_calls=[], tool_call_id=None, name=None)


def _tool(attrs: dict[str, Any], f: Facts, value_in: Any, value_out: Any) -> None:
    get = attrs.get
    if f.tool_name is None:
        f.tool_name = as_str(get("tool.name") or get("tool_call.function.name"))
    if f.tool_call_id is None:
        f.tool_call_id = as_str(get("tool_call.id") or get("tool.id"))
    if f.tool_arguments is None:
        # tool.parameters is the tool's parameter *schema* per the spec, not the
        # call's arguments, so only the call's own arguments or its input count.
        raw = get("tool_call.function.arguments")
        if raw is None and f.kind is SpanKind.TOOL:
            raw = value_in
        f.tool_arguments = raw
    if f.tool_result is None and f.kind is SpanKind.TOOL and value_out is not None:
        f.tool_result = value_out
