"""OpenInference spans for the agent's own steps: LLM calls, tool steps, the conversation.

``@agent_backtest.tool`` already emits a TOOL span for every tool call. The
LLM spans come from here: ``chat_completion`` wraps one
``client.chat.completions.create`` call and records what OpenInference's
OpenAI instrumentation would (model, invocation parameters, the input and
output messages with their tool calls, token counts), so production traces
carry everything ``backtest promote`` and the classifiers read without
depending on ``openinference-instrumentation-openai``.

Without OpenTelemetry installed, or with no tracer provider configured (as
during replay), every helper here is a plain pass-through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from openai import OpenAI
from openai.types.chat import ChatCompletion

TRACER_NAME = "examples.support_agent"


def _tracer() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    return trace.get_tracer(TRACER_NAME)


def _message_attributes(prefix: str, message: Mapping[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {f"{prefix}.message.role": message["role"]}
    for key in ("content", "name", "tool_call_id"):
        if message.get(key) is not None:
            attrs[f"{prefix}.message.{key}"] = str(message[key])
    for j, call in enumerate(message.get("tool_calls") or []):
        base = f"{prefix}.message.tool_calls.{j}.tool_call"
        attrs[f"{base}.id"] = call["id"]
        attrs[f"{base}.function.name"] = call["function"]["name"]
        attrs[f"{base}.function.arguments"] = call["function"]["arguments"]
    return attrs


def request_attributes(request: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenInference attributes of a chat-completions request."""
    parameters = {k: v for k, v in request.items() if k not in ("messages", "tools")}
    attrs: dict[str, Any] = {
        "openinference.span.kind": "LLM",
        "llm.system": "openai",
        "llm.provider": "openai",
        "llm.model_name": request["model"],
        "llm.invocation_parameters": json.dumps(parameters, sort_keys=True),
    }
    for i, message in enumerate(request["messages"]):
        attrs.update(_message_attributes(f"llm.input_messages.{i}", message))
    for i, schema in enumerate(request.get("tools") or []):
        attrs[f"llm.tools.{i}.tool.json_schema"] = json.dumps(schema, sort_keys=True)
    return attrs


def response_attributes(response: ChatCompletion) -> dict[str, Any]:
    """The OpenInference attributes of a chat completion: output messages and usage."""
    attrs: dict[str, Any] = {"llm.model_name": response.model}
    for i, choice in enumerate(response.choices):
        message = choice.message.model_dump(exclude_none=True)
        attrs.update(_message_attributes(f"llm.output_messages.{i}", message))
        attrs["llm.finish_reason"] = choice.finish_reason
    if response.usage is not None:
        attrs["llm.token_count.prompt"] = response.usage.prompt_tokens
        attrs["llm.token_count.completion"] = response.usage.completion_tokens
        attrs["llm.token_count.total"] = response.usage.total_tokens
    return attrs


def chat_completion(
    client: OpenAI,
    *,
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Any],
    temperature: float,
) -> ChatCompletion:
    """``client.chat.completions.create`` inside an OpenInference LLM span."""
    request = {"model": model, "messages": messages, "tools": tools, "temperature": temperature}
    tracer = _tracer()
    if tracer is None:
        return client.chat.completions.create(**request)  # type: ignore[no-any-return,call-overload]
    with tracer.start_as_current_span(
        "ChatCompletion", attributes=request_attributes(request)
    ) as span:
        response: ChatCompletion = client.chat.completions.create(**request)  # type: ignore[call-overload]
        span.set_attributes(response_attributes(response))
        return response


@contextmanager
def tool_step(name: str) -> Iterator[None]:
    """A CHAIN span around one requested tool call and every attempt at it.

    It carries no arguments on purpose: an id in a wrapper span would count as
    "seen" and hide an invented one from ``hallucinated_tool_input``. What it
    shows is the retry structure: attempts of a step nested under the step.
    """
    tracer = _tracer()
    span = (
        nullcontext()
        if tracer is None
        else tracer.start_as_current_span(
            f"tool_step {name}", attributes={"openinference.span.kind": "CHAIN"}
        )
    )
    with span:
        yield
