"""A candidate for the update tests: a plain OpenAI tool-calling loop with tools that leave traces.

Every real execution of a tool appends a line to the file named by
``UPDATE_BOT_LOG``, so a test can count how often each tool really ran (and
prove the side-effecting one never did). ``script`` is what the local server
answers, a pure function of the request.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from openai import OpenAI

from agent_backtest.replay.tools import ToolError, tool
from tests.support.openai_server import RecordedRequest, Reply

CONTACT = "jane.doe@example.com"  # personal data: must never reach a written file


def _ran(line: str) -> None:
    with Path(os.environ["UPDATE_BOT_LOG"]).open("a") as handle:
        handle.write(line + "\n")


@tool(read_only=True)
def lookup_order(order_id: str) -> dict[str, Any]:
    _ran(f"lookup_order {order_id}")
    return {"order_id": order_id, "status": "shipped", "contact": CONTACT}


@tool(read_only=True)
def track_parcel(order_id: str) -> dict[str, Any]:
    # Read-only, but evalset.yaml may say it has side effects: then it must not run.
    _ran(f"track_parcel {order_id}")
    return {"order_id": order_id, "at": "depot"}


@tool(side_effects=True)
def refund(order_id: str, amount: float) -> dict[str, Any]:
    _ran(f"refund {order_id} {amount}")
    return {"refunded": amount}


@tool
def search_kb(query: str) -> str:  # neither read_only nor side_effects: never recorded
    _ran(f"search_kb {query}")
    return "an article"


TOOLS: dict[str, Callable[..., Any]] = {
    "lookup_order": lookup_order,
    "track_parcel": track_parcel,
    "refund": refund,
    "search_kb": search_kb,
}
SCHEMAS: list[Any] = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in TOOLS
]


def _call_tool(call: Any) -> str:
    try:
        result = TOOLS[call.function.name](**json.loads(call.function.arguments or "{}"))
    except ToolError as exc:
        return f"error: {exc}"
    return json.dumps(result)


def run(messages: list[Any]) -> str:
    client = OpenAI(max_retries=0)
    for _ in range(6):
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=SCHEMAS, temperature=0
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        messages.extend(
            {"role": "tool", "tool_call_id": call.id, "content": _call_tool(call)}
            for call in message.tool_calls
        )
    return "gave up"


def fetch_models(messages: list[Any]) -> Any:
    """An agent whose only tool is an HTTP API (no LLM calls)."""
    return httpx.get(os.environ["MODELS_URL"]).json()


# User message -> the tool calls the "model" asks for, one step each.
PLANS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Where is order A1?": [("lookup_order", {"order_id": "A1"})],
    "Refund A3": [
        ("lookup_order", {"order_id": "A3"}),
        ("refund", {"order_id": "A3", "amount": 10}),
    ],
    "Track A4": [("track_parcel", {"order_id": "A4"})],
    "Search": [("search_kb", {"query": "returns"})],
}


def script(request: RecordedRequest) -> Reply:
    user = next(str(m.get("content")) for m in request.messages if m.get("role") == "user")
    steps = sum(1 for m in request.messages if m.get("role") == "tool")
    plan = PLANS[user]
    if steps < len(plan):
        name, arguments = plan[steps]
        call = {
            "id": f"call_{steps}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return Reply(content=None, tool_calls=[call], finish_reason="tool_calls")
    # The model repeats personal data: the cassette must store it redacted.
    return Reply(content=f"Done. Questions? Write to {CONTACT}.")


def idle(messages: list[Any]) -> str:
    """Calls nothing: a run every detector passes."""
    return "nothing to do"


def boom(messages: list[Any]) -> str:
    raise ValueError("the candidate blew up")


_barrier_lock = threading.Lock()
_barriers: dict[int, threading.Barrier] = {}


def rendezvous(messages: list[Any]) -> str:
    """Returns only once ``RENDEZVOUS_PARTIES`` runs are inside it at the same time."""
    parties = int(os.environ["RENDEZVOUS_PARTIES"])
    with _barrier_lock:
        barrier = _barriers.setdefault(parties, threading.Barrier(parties, timeout=5))
    barrier.wait()
    return "met"
