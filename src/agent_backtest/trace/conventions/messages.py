"""Chat messages in the OpenAI wire shape -> normalized ``Message``s.

Many sources carry OpenAI-shaped messages: OpenInference ``input.value`` holding
the request body, Langfuse generations, and the candidate's own recorded calls.
"""

from __future__ import annotations

from typing import Any

import orjson

from agent_backtest.trace.model import Message, ToolCallRequest


def parse_arguments(raw: Any) -> Any:
    """Tool-call arguments arrive as a JSON string (usually) or an object; keep both."""
    if isinstance(raw, str):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    return raw


def _content_text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        texts = [
            str(part.get("text", part.get("content", "")))
            for part in content
            if isinstance(part, dict) and part.get("type", "text") in ("text", "input_text", "output_text")
        ]
        return "".join(texts)
    return orjson.dumps(content).decode()


def tool_call_from_openai(call: dict[str, Any]) -> ToolCallRequest:
    nested = call.get("function")
    function: dict[str, Any] = nested if isinstance(nested, dict) else call
    raw_args = function.get("arguments")
    raw_text = raw_args if isinstance(raw_args, str) or raw_args is None else orjson.dumps(raw_args).decode()
    return ToolCallRequest.model_construct(
        id=call.get("id"),
        name=str(function.get("name", "")),
        arguments_raw=raw_text,
        arguments=parse_arguments(raw_args),
    )


def message_from_openai(message: dict[str, Any]) -> Message:
    calls = message.get("tool_calls") or []
    return Message.model_construct(
        role=str(message.get("role", "user")),
        content=_content_text(message.get("content")),
        tool_calls=[tool_call_from_openai(c) for c in calls if isinstance(c, dict)],
        tool_call_id=message.get("tool_call_id"),
        name=message.get("name"),
    )


def messages_from_openai(messages: Any) -> list[Message]:
    if not isinstance(messages, list):
        return []
    return [message_from_openai(m) for m in messages if isinstance(m, dict)]
