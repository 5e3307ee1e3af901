"""The five tools, declared with ``@agent_backtest.tool``, and their OpenAI schemas.

In production each call reaches the backend (and, with OpenTelemetry
configured, leaves an OpenInference TOOL span). During a case the decorator
answers from the recordings instead; ``issue_refund`` and ``escalate_to_human``
have side effects, so nothing can ever make them run in replay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_backtest import tool
from examples.support_agent.backend import current_backend


@tool(read_only=True)
def lookup_order(order_id: str) -> dict[str, Any]:
    """Order details: items, total, status, carrier and tracking."""
    return current_backend().order(order_id)


@tool(read_only=True)
def get_refund_status(order_id: str) -> dict[str, Any]:
    """Where the refund of an order stands."""
    return current_backend().refund_status(order_id)


@tool(side_effects=True)
def issue_refund(order_id: str, amount: float, reason: str) -> dict[str, Any]:
    """Refund money to the customer's original payment method."""
    return current_backend().refund(order_id, amount, reason)


@tool(read_only=True)
def search_kb(query: str) -> dict[str, Any]:
    """Search the help center."""
    return current_backend().search(query)


@tool(side_effects=True)
def escalate_to_human(reason: str, order_id: str | None = None) -> dict[str, Any]:
    """Open a ticket for a human specialist."""
    return current_backend().escalate(order_id, reason)


TOOLS: dict[str, Callable[..., Any]] = {
    "lookup_order": lookup_order,
    "get_refund_status": get_refund_status,
    "issue_refund": issue_refund,
    "search_kb": search_kb,
    "escalate_to_human": escalate_to_human,
}

_ORDER_ID = {"type": "string", "description": "The order id, e.g. ORD-1234."}


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Any:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


# Typed loosely: the SDK's TypedDicts add nothing for a literal list of schemas.
SCHEMAS: list[Any] = [
    _function("lookup_order", "Look up an order by id.", {"order_id": _ORDER_ID}, ["order_id"]),
    _function(
        "get_refund_status",
        "Check the refund of an order.",
        {"order_id": _ORDER_ID},
        ["order_id"],
    ),
    _function(
        "issue_refund",
        "Refund an order (money moves: only when the policy allows it).",
        {
            "order_id": _ORDER_ID,
            "amount": {"type": "number", "description": "Amount in USD."},
            "reason": {"type": "string"},
        },
        ["order_id", "amount", "reason"],
    ),
    _function(
        "search_kb",
        "Search the help center articles.",
        {"query": {"type": "string"}},
        ["query"],
    ),
    _function(
        "escalate_to_human",
        "Hand the conversation to a human specialist.",
        {"reason": {"type": "string"}, "order_id": _ORDER_ID},
        ["reason"],
    ),
]
