"""The support agent with the fixes for the failures the production traces caught.

``production.py`` is the same agent without them: diff the two files.
"""

from __future__ import annotations

import re
from typing import Any

from examples.support_agent.agent_loop import Policy, ToolRequest, answered_calls, converse

ORDER_ID = re.compile(r"\bORD-\d+\b", re.IGNORECASE)


def known_order_ids(messages: list[dict[str, Any]]) -> set[str]:
    """Order ids the customer, the system prompt or a successful tool result mentioned.

    The model's own words do not count, and neither do error messages: a refusal
    quoting a made-up id must not make that id known.
    """
    known: set[str] = set()
    for message in messages:
        content = str(message.get("content") or "")
        if message.get("role") == "assistant" or content.startswith("error:"):
            continue
        known.update(found.upper() for found in ORDER_ID.findall(content))
    return known


def refuse_repeated_call(request: ToolRequest, messages: list[dict[str, Any]]) -> str | None:
    for earlier, result in answered_calls(messages):
        same = (earlier.name, earlier.arguments) == (request.name, request.arguments)
        if same and not result.startswith("error:"):
            return (
                f"{request.name} was already called with these exact arguments and its result "
                "is above; calling it again will not change it. Answer from that result, or "
                "hand over with escalate_to_human."
            )
    return None


def refuse_unknown_order_id(request: ToolRequest, messages: list[dict[str, Any]]) -> str | None:
    order_id = request.arguments.get("order_id")
    if order_id is None or str(order_id).upper() in known_order_ids(messages):
        return None
    return (
        f"order id {order_id!r} does not appear in this conversation or in any tool result. "
        "Never guess an order id: ask the customer for it."
    )


def vet(request: ToolRequest, messages: list[dict[str, Any]]) -> str | None:
    return refuse_repeated_call(request, messages) or refuse_unknown_order_id(request, messages)


POLICY = Policy(
    # A step budget: at most 8 LLM calls, then a polite hand-over.
    max_steps=8,
    # One retry layer: a failed tool call goes straight back to the model, which
    # may ask again (within the budget).
    tool_attempts=1,
    # Refuse a call identical to one that already succeeded, and order ids that
    # nobody but the model mentioned; the model reads the refusal and adapts.
    vet=vet,
)


def run(messages: list[dict[str, Any]]) -> str:
    """The agent contract: the conversation in, the reply to the customer out."""
    return converse(messages, POLICY)
