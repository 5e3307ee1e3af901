"""An intercepted chat-completions exchange -> a normalized LLM ``Span``.

The candidate's trace is built from what went over the wire, so it is the same
``Trace`` model production traces become and the same classifiers score it.
"""

from __future__ import annotations

from typing import Any

import orjson

from agent_backtest.trace.conventions.messages import message_from_openai, messages_from_openai
from agent_backtest.trace.model import (
    LLMCall,
    Message,
    Span,
    SpanKind,
    SpanStatus,
    StatusCode,
    TokenUsage,
)

_PARAMS = (
    "temperature",
    "top_p",
    "seed",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "tool_choice",
)


def _assemble_stream(chunks: tuple[bytes, ...]) -> dict[str, Any]:
    """Fold SSE ``chat.completion.chunk`` deltas into one completion body."""
    text = b"".join(chunks).decode("utf-8", "replace")
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]" or not payload:
            continue
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        model = event.get("model", model)
        usage = event.get("usage") or usage
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    call.get("index", 0),
                    {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
                )
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["function"]["name"] += function.get("name") or ""
                slot["function"]["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return {
        "model": model,
        "choices": [{"message": message, "finish_reason": finish}],
        "usage": usage,
    }


def llm_span_from_exchange(
    *,
    span_number: int,
    parent_id: str | None,
    request_body: dict[str, Any],
    status: int,
    response_body: Any,
    chunks: tuple[bytes, ...] | None,
    start_ns: int,
    end_ns: int,
) -> Span:
    body = _assemble_stream(chunks) if chunks is not None else response_body
    body = body if isinstance(body, dict) else {}
    outputs: list[Message] = []
    finish: list[str] = []
    for choice in body.get("choices") or []:
        if isinstance(choice.get("message"), dict):
            outputs.append(message_from_openai(choice["message"]))
        if choice.get("finish_reason"):
            finish.append(str(choice["finish_reason"]))
    usage = body.get("usage") or {}
    prompt_details = usage.get("prompt_tokens_details") or {}
    llm = LLMCall(
        provider="openai",
        model=body.get("model") or request_body.get("model"),
        input_messages=messages_from_openai(request_body.get("messages")),
        output_messages=outputs,
        tool_calls=[call for message in outputs for call in message.tool_calls],
        usage=TokenUsage(
            input=usage.get("prompt_tokens"),
            output=usage.get("completion_tokens"),
            total=usage.get("total_tokens"),
            cache_read=prompt_details.get("cached_tokens"),
        ),
        finish_reasons=finish,
        invocation_parameters={k: request_body[k] for k in _PARAMS if k in request_body},
    )
    error = status >= 400
    return Span(
        span_id=f"{span_number:016x}",
        parent_id=parent_id,
        kind=SpanKind.LLM,
        name="chat " + str(llm.model or ""),
        start_ns=start_ns,
        end_ns=end_ns,
        status=SpanStatus(
            code=StatusCode.ERROR if error else StatusCode.OK,
            message=f"HTTP {status}" if error else None,
        ),
        llm=llm,
        attributes={
            "openinference.span.kind": "LLM",
            "agent_backtest.llm.stream": chunks is not None,
        },
    )
