"""Chat messages in the shapes real spans carry -> normalized ``Message``s.

Three message shapes turn up inside attribute values, often in one trace:

- OpenAI wire shape (``content`` string or content parts, ``tool_calls``):
  OpenInference ``input.value`` request bodies, Langfuse generations, any-agent.
- OTel GenAI ``parts`` (``text``, ``tool_call``, ``tool_call_response``):
  ``gen_ai.input.messages``/``gen_ai.output.messages``, and the same JSON that
  openinference-genai copies into ``input.value`` and ``gen_ai.prompt``.
- Gemini ``contents``/``parts`` (``text``, ``function_call``,
  ``function_response``, role ``model``): Google ADK's ``llm_request``.

``parse_input`` and ``parse_output`` accept any of them, so every convention
decoder turns the same conversation into equal ``Message`` lists.
"""

from __future__ import annotations

from typing import Any

import orjson

from agent_backtest.trace.conventions.construct import build, build_tool_call_request
from agent_backtest.trace.conventions.values import dumps, loads
from agent_backtest.trace.model import Message, ToolCallRequest

_orjson_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_TEXT_TYPES = frozenset(("text", "input_text", "output_text"))
# Gemini says "model" where every other convention says "assistant".
_ROLES = {"model": "assistant"}


def parse_arguments(raw: Any) -> Any:
    """Tool-call arguments arrive as a JSON string (usually) or an object; keep both."""
    if isinstance(raw, str):
        return loads(raw)
    return raw


def make_tool_call(call_id: Any, name: Any, raw_args: Any) -> ToolCallRequest:
    """One requested tool call, with the raw argument text and its parsed value."""
    if type(raw_args) is str:  # the common case of parse_arguments, without the calls
        raw_text: str | None = raw_args
        try:
            arguments = _orjson_loads(raw_args)
        except _JSONDecodeError:
            arguments = None
    else:
        raw_text = raw_args if isinstance(raw_args, str) or raw_args is None else dumps(raw_args)
        arguments = parse_arguments(raw_args)
    return build_tool_call_request(
        None if call_id is None or call_id == "" else str(call_id),
        "" if name is None else str(name),
        raw_text,
        arguments,
    )


def _content_text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        texts = [
            str(part.get("text", part.get("content", "")))
            for part in content
            if isinstance(part, dict) and part.get("type", "text") in _TEXT_TYPES
        ]
        return "".join(texts) if texts else None
    return dumps(content)


def tool_call_from_openai(call: dict[str, Any]) -> ToolCallRequest:
    nested = call.get("function")
    function: dict[str, Any] = nested if isinstance(nested, dict) else call
    return make_tool_call(call.get("id"), function.get("name"), function.get("arguments"))


def message_from_openai(message: dict[str, Any]) -> Message:
    calls = message.get("tool_calls") or []
    role = str(message.get("role", "user"))
    return build(
        Message,
        role=_ROLES.get(role, role),
        content=_content_text(message.get("content")),
        tool_calls=[tool_call_from_openai(c) for c in calls if isinstance(c, dict)],
        tool_call_id=message.get("tool_call_id"),
        name=message.get("name"),
    )


def messages_from_openai(messages: Any) -> list[Message]:
    if not isinstance(messages, list):
        return []
    return [message_from_openai(m) for m in messages if isinstance(m, dict)]


def _response_text(response: Any) -> str | None:
    if response is None or isinstance(response, str):
        return response
    return dumps(response)


def messages_from_parts(message: dict[str, Any]) -> list[Message]:
    """A GenAI or Gemini ``parts`` message. One message per tool response, as in OpenAI."""
    role = str(message.get("role", "user"))
    role = _ROLES.get(role, role)
    texts: list[str] = []
    calls: list[ToolCallRequest] = []
    responses: list[Message] = []
    parts = message.get("parts")
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text" or (kind is None and "text" in part):
            text = part.get("content", part.get("text"))
            if text is not None:
                texts.append(str(text))
        elif kind == "tool_call":
            calls.append(make_tool_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind == "tool_call_response":
            responses.append(_tool_message(part.get("id"), None, part.get("response")))
        elif isinstance(fc := part.get("function_call"), dict):
            calls.append(make_tool_call(fc.get("id"), fc.get("name"), fc.get("args")))
        elif isinstance(fr := part.get("function_response"), dict):
            responses.append(_tool_message(fr.get("id"), fr.get("name"), fr.get("response")))
    if responses and not texts and not calls:
        return responses
    head = build(
        Message,
        role=role,
        content="".join(texts) if texts else None,
        tool_calls=calls,
        tool_call_id=None,
        name=message.get("name"),
    )
    return [head, *responses]


def _tool_message(call_id: Any, name: Any, response: Any) -> Message:
    return build(
        Message,
        role="tool",
        content=_response_text(response),
        tool_calls=[],
        tool_call_id=None if call_id is None else str(call_id),
        name=None if name is None else str(name),
    )


def _one(message: dict[str, Any]) -> list[Message]:
    if "parts" in message:
        return messages_from_parts(message)
    return [message_from_openai(message)]


def system_message(text: str) -> Message:
    return build(Message, role="system", content=text, tool_calls=[], tool_call_id=None, name=None)


def parse_messages(value: Any) -> list[Message]:
    """A list of messages in any of the three shapes (JSON text or structured)."""
    value = loads(value) if isinstance(value, str) else value
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    out: list[Message] = []
    for item in value:
        if isinstance(item, dict):
            out.extend(_one(item))
    return out


def parse_input(value: Any) -> list[Message]:
    """Input messages from a request body or message list; ``[]`` when it holds none."""
    if isinstance(value, str):
        parsed = loads(value)
        if parsed is None:
            return []
        value = parsed
    if isinstance(value, dict):
        if "messages" in value:
            return parse_messages(value["messages"])
        if "contents" in value:  # Gemini request
            out = parse_messages(value["contents"])
            system = _gemini_system(value)
            return [system_message(system), *out] if system else out
        if "role" in value:
            return parse_messages([value])
        return []
    if isinstance(value, list):
        return parse_messages(value)
    return []


def _gemini_system(request: dict[str, Any]) -> str | None:
    config = request.get("config")
    system = config.get("system_instruction") if isinstance(config, dict) else None
    system = system if system is not None else request.get("system_instruction")
    if isinstance(system, dict):  # Content object
        texts = [m.content for m in messages_from_parts(system) if m.content]
        return "".join(texts) or None
    return system if isinstance(system, str) and system else None


def finish_reasons_of(items: Any) -> list[str]:
    """``finish_reason`` of each raw output message or choice, lower-cased."""
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return []
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            reason = item.get("finish_reason", item.get("finishReason"))
            if reason:
                out.append(str(reason).lower())
    return out


def parse_output(value: Any) -> tuple[list[Message], list[str]]:
    """Output messages and finish reasons from a response body or message list.

    Knows OpenAI ``choices``, ``{"text", "finish_reason"}`` (openinference-genai),
    Gemini/ADK ``{"content": {...}, "finish_reason"}`` and ``candidates``, and
    message lists. Plain text is one assistant message.
    """
    if isinstance(value, str):
        parsed = loads(value)
        if parsed is None or isinstance(parsed, str | int | float):
            return [_assistant(value)], []
        value = parsed
    if isinstance(value, list):
        return parse_messages(value), finish_reasons_of(value)
    if not isinstance(value, dict):
        return [], []
    if isinstance(choices := value.get("choices"), list):
        messages: list[Message] = []
        for choice in choices:
            if isinstance(choice, dict):
                msg = choice.get("message")
                if isinstance(msg, dict):
                    messages.extend(_one(msg))
                elif isinstance(choice.get("text"), str):
                    messages.append(_assistant(choice["text"]))
        return messages, finish_reasons_of(choices)
    if isinstance(candidates := value.get("candidates"), list):
        contents = [c.get("content") for c in candidates if isinstance(c, dict)]
        return parse_messages([c for c in contents if isinstance(c, dict)]), finish_reasons_of(
            candidates
        )
    if isinstance(content := value.get("content"), dict):
        return parse_messages([content]), finish_reasons_of(value)
    if "role" in value:
        return parse_messages([value]), finish_reasons_of(value)
    if isinstance(text := value.get("text"), str):
        return [_assistant(text)], finish_reasons_of(value)
    return [], finish_reasons_of(value)


def _assistant(text: str) -> Message:
    return build(
        Message, role="assistant", content=text, tool_calls=[], tool_call_id=None, name=None
    )
