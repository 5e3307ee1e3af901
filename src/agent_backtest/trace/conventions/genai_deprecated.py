"""OTel GenAI keys from before the current semconv (third priority).

- ``gen_ai.prompt`` / ``gen_ai.completion`` holding whole message lists as JSON.
- ``gen_ai.usage.prompt_tokens`` / ``completion_tokens`` (renamed to
  ``input_tokens``/``output_tokens``), ``gen_ai.usage.cache_read_input_tokens`` /
  ``cache_creation_input_tokens`` (renamed to ``cache_read.input_tokens`` ...).
- The per-message span events: ``gen_ai.system.message``, ``gen_ai.user.message``,
  ``gen_ai.assistant.message``, ``gen_ai.tool.message``, ``gen_ai.choice``, and the
  older ``gen_ai.content.prompt``/``gen_ai.content.completion`` events.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.conventions.facts import Facts
from agent_backtest.trace.conventions.messages import (
    finish_reasons_of,
    message_from_openai,
    parse_input,
    parse_output,
)
from agent_backtest.trace.conventions.values import as_int, loads
from agent_backtest.trace.model import Message
from agent_backtest.trace.raw import RawEvent

_ROLE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def decode(attrs: dict[str, Any], f: Facts) -> None:
    if not f.wants_llm:
        return
    get = attrs.get
    if f.input_tokens is None:
        f.input_tokens = as_int(get("gen_ai.usage.prompt_tokens"))
    if f.output_tokens is None:
        f.output_tokens = as_int(get("gen_ai.usage.completion_tokens"))
    if f.cache_read is None:
        f.cache_read = as_int(get("gen_ai.usage.cache_read_input_tokens"))
    if f.cache_write is None:
        f.cache_write = as_int(get("gen_ai.usage.cache_creation_input_tokens"))
    if f.input_messages is None and (prompt := get("gen_ai.prompt")) is not None:
        f.input_messages = parse_input(prompt) or None
    completion = get("gen_ai.completion")
    if completion is not None and (f.output_messages is None or f.finish_reasons is None):
        messages, reasons = parse_output(completion)
        if f.output_messages is None:
            f.output_messages = messages or None
        if f.finish_reasons is None:
            f.finish_reasons = reasons or None


def decode_events(events: list[RawEvent], f: Facts) -> None:
    """Messages carried as span events, one event per message."""
    if not f.wants_llm or (f.input_messages is not None and f.output_messages is not None):
        return
    inputs: list[Message] = []
    outputs: list[Message] = []
    reasons: list[str] = []
    for event in events:
        name = event.name
        if name in _ROLE_EVENTS:
            body = _body(event)
            body.setdefault("role", _ROLE_EVENTS[name])
            if name == "gen_ai.tool.message" and "tool_call_id" not in body:
                body["tool_call_id"] = body.get("id")
            inputs.append(message_from_openai(body))
        elif name == "gen_ai.choice":
            body = _body(event)
            message = loads(body.get("message"))
            if isinstance(message, dict):
                message.setdefault("role", "assistant")
                outputs.append(message_from_openai(message))
            reasons.extend(finish_reasons_of(body))
        elif name == "gen_ai.content.prompt":
            inputs.extend(parse_input(event.attributes.get("gen_ai.prompt")))
        elif name == "gen_ai.content.completion":
            messages, found = parse_output(event.attributes.get("gen_ai.completion"))
            outputs.extend(messages)
            reasons.extend(found)
    if f.input_messages is None and inputs:
        f.input_messages = inputs
    if f.output_messages is None and outputs:
        f.output_messages = outputs
    if f.finish_reasons is None and reasons:
        f.finish_reasons = reasons


def _body(event: RawEvent) -> dict[str, Any]:
    """The event body: a ``body``/``event.body`` attribute when a bridge put it there, else the attributes.

    ``tool_calls`` and ``message`` may be nested values or JSON text.
    """
    attrs = event.attributes
    for key in ("body", "event.body", "gen_ai.event.content"):
        if key in attrs:
            body = loads(attrs[key])
            if isinstance(body, dict):
                return dict(body)
    body = {k: v for k, v in attrs.items() if not k.startswith("gen_ai.system")}
    calls = body.get("tool_calls")
    if isinstance(calls, str):
        body["tool_calls"] = loads(calls) or []
    return body
