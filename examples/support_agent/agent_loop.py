"""What production and the candidate share: the OpenAI tool-calling loop and its knobs.

``production.py`` and ``candidate.py`` each pass a ``Policy`` to ``converse``;
everything they do differently is in their policies, so
``diff production.py candidate.py`` shows exactly the fixes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from openai import OpenAI

from agent_backtest import ToolError
from examples.support_agent.tools import SCHEMAS, TOOLS
from examples.support_agent.tracing import chat_completion, tool_step

MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = (
    "You are the support assistant of Northwind Audio, an online shop for headphones and "
    "speakers. Help customers with orders, deliveries, returns and refunds. Use the tools to "
    "look things up; refund only what the refund policy allows."
)


@dataclass(frozen=True)
class ToolRequest:
    """One tool call the model asked for, with its arguments decoded."""

    call_id: str
    name: str
    arguments: dict[str, Any]


# Looks at a requested call and the conversation so far; a string refuses the call
# and is what the model reads back instead of a result.
Vetting = Callable[[ToolRequest, list[dict[str, Any]]], str | None]


@dataclass(frozen=True)
class Policy:
    max_steps: int | None  # LLM calls per conversation; None: no budget at all
    tool_attempts: int  # tries of each tool call inside the loop; 1: no retry loop here
    vet: Vetting | None = None  # checks a call before it runs
    out_of_steps: str = (
        "I'm sorry, I couldn't resolve this here; a support specialist will follow up."
    )


def make_client() -> OpenAI:
    # A plain client, as in production: in replay agent-backtest provides a placeholder
    # key when none is set, and the scripted model's runner sets one.
    return OpenAI(timeout=30)


def describe(exc: Exception) -> str:
    """A tool failure as the model reads it, the same live and in replay.

    Replay raises a ``ToolError`` whose message is the recorded ``Type: message``;
    a live failure gets its type name prepended to read the same way.
    """
    return str(exc) if isinstance(exc, ToolError) else f"{type(exc).__name__}: {exc}"


def run_tool(request: ToolRequest, attempts: int) -> str:
    func = TOOLS.get(request.name)
    if func is None:
        return f"error: there is no tool named {request.name!r}"
    failure = "no attempt made"
    with tool_step(request.name):
        for _ in range(attempts):
            try:
                return json.dumps(func(**request.arguments))
            except Exception as exc:  # any failure goes back to the model as text
                failure = describe(exc)
    return f"error: {failure}"


def decode_arguments(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def answered_calls(messages: Iterable[dict[str, Any]]) -> list[tuple[ToolRequest, str]]:
    """Every tool call in the conversation that already has its tool message, in order."""
    requested: dict[str, ToolRequest] = {}
    answered: list[tuple[ToolRequest, str]] = []
    for message in messages:
        for call in message.get("tool_calls") or []:
            function = call["function"]
            requested[call["id"]] = ToolRequest(
                call["id"], function["name"], decode_arguments(function.get("arguments"))
            )
        if message.get("role") == "tool" and message.get("tool_call_id") in requested:
            answered.append((requested[message["tool_call_id"]], str(message.get("content"))))
    return answered


def converse(messages: list[dict[str, Any]], policy: Policy) -> str:
    """Answer the customer's last message; ``messages`` grows with every step."""
    client = make_client()
    step = 0
    while policy.max_steps is None or step < policy.max_steps:
        step += 1
        reply = chat_completion(
            client, model=MODEL, messages=messages, tools=SCHEMAS, temperature=0
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            if call.type != "function":  # only function tools are offered, so never taken
                continue
            request = ToolRequest(
                call.id, call.function.name, decode_arguments(call.function.arguments)
            )
            refusal = policy.vet(request, messages) if policy.vet is not None else None
            content = f"error: {refusal}" if refusal else run_tool(request, policy.tool_attempts)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return policy.out_of_steps
