"""What a Langfuse GENERATION or TOOL observation says about its call.

Split from the reader so each module stays small: these functions turn the
observation's own fields (model, OpenAI-shaped input/output, usageDetails,
costDetails, level) into the ``LLMCall`` and ``ToolCall`` the reader presets.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from agent_backtest.trace.conventions.messages import messages_from_openai, parse_arguments
from agent_backtest.trace.model import LLMCall, Message, TokenUsage, ToolCall

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def field(obj: dict[str, Any], key: str) -> Any:
    """``obj[key]`` in the API's camelCase, else in the blob export's snake_case."""
    value = obj.get(key)
    if value is None and not key.islower():
        value = obj.get(_SNAKE.sub("_", key).lower())
    return value


def maybe_json(value: Any) -> Any:
    # The blob export writes input/output as strings that hold JSON.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _as_messages(value: Any, default_role: str) -> list[Message]:
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if isinstance(value, dict) and ("role" in value or "tool_calls" in value):
        value = [{"role": default_role, **value}]
    if isinstance(value, str):
        value = [{"role": default_role, "content": value}]
    return messages_from_openai(value)


def llm_call(obs: dict[str, Any], input_value: Any, output_value: Any) -> LLMCall:
    outputs = _as_messages(output_value, "assistant")
    parameters = field(obs, "modelParameters")
    return LLMCall.model_construct(
        provider=None,
        model=obs.get("model") or field(obs, "providedModelName"),
        input_messages=_as_messages(input_value, "user"),
        output_messages=outputs,
        tool_calls=[call for message in outputs for call in message.tool_calls],
        usage=_usage(obs),
        cost=_cost(obs),
        finish_reasons=[],
        invocation_parameters=dict(parameters) if isinstance(parameters, dict) else {},
    )


def _usage(obs: dict[str, Any]) -> TokenUsage:
    details = field(obs, "usageDetails")
    if not isinstance(details, dict) or not details:
        legacy = obs.get("usage")
        details = legacy if isinstance(legacy, dict) else {}
        details = {
            "input": details.get("input", details.get("promptTokens")),
            "output": details.get("output", details.get("completionTokens")),
            "total": details.get("total", details.get("totalTokens")),
        }
    counts = {k: v for k, v in details.items() if isinstance(v, int) and not isinstance(v, bool)}
    # Langfuse subtracts cached and other sub-counts from "input"/"output" and
    # stores them as "input_*"/"output_*" keys; the normalized counts are the
    # whole prompt and the whole completion, so add them back.
    inputs = [v for k, v in counts.items() if k == "input" or k.startswith("input_")]
    inputs += [
        counts[k] for k in ("cache_read_input_tokens", "cache_creation_input_tokens") if k in counts
    ]
    outputs = [v for k, v in counts.items() if k == "output" or k.startswith("output_")]
    return TokenUsage.model_construct(
        input=sum(inputs) if inputs else None,
        output=sum(outputs) if outputs else None,
        total=counts.get("total"),
        cache_read=_first(
            counts, "input_cached_tokens", "input_cache_read", "cache_read_input_tokens"
        ),
        cache_write=_first(counts, "input_cache_creation", "cache_creation_input_tokens"),
    )


def _first(counts: dict[str, int], *keys: str) -> int | None:
    return next((counts[k] for k in keys if k in counts), None)


def _cost(obs: dict[str, Any]) -> float | None:
    details = field(obs, "costDetails")
    if isinstance(details, dict) and details:
        if isinstance(details.get("total"), int | float):
            return float(details["total"])
        return float(sum(v for v in details.values() if isinstance(v, int | float)))
    for key in ("calculatedTotalCost", "totalCost"):
        value = field(obs, key)
        if isinstance(value, int | float):
            return float(value)
    return None


def tool_call(
    obs: dict[str, Any],
    name: str,
    input_value: Any,
    output_value: Any,
    level: str,
    status_message: Any,
) -> ToolCall:
    raw = obs.get("input")
    if isinstance(raw, str):
        arguments_raw: str | None = raw
        arguments = parse_arguments(raw)
        if arguments is None:
            arguments = raw
    else:
        arguments_raw = orjson.dumps(raw).decode() if raw is not None else None
        arguments = input_value
    metadata = obs.get("metadata")
    call_id = metadata.get("tool_call_id") if isinstance(metadata, dict) else None
    return ToolCall.model_construct(
        name=name,
        call_id=call_id,
        arguments_raw=arguments_raw,
        arguments=arguments,
        result=output_value,
        error=(status_message or "error") if level == "ERROR" else None,
    )
