"""A deterministic stand-in for the LLM: the reply is a pure function of the request.

It plays the model the support agent ran on, including the habits that made
production fail, so the traces and the recorded LLM interactions can be made
again byte for byte:

- it keeps calling a tool whose answer says "check again" / "try again", and
  gives up only after several identical answers (what the production loop did);
- asked for a refund with no order id, it makes one up rather than asking;
- after a tool error it asks again once, then escalates to a human;
- it reads refusals the way a real model does: told an id is unknown, it asks
  the customer; told a call was already made, it answers from that result.

``model_server.py`` serves it over the OpenAI chat-completions HTTP API.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

ORDER_ID = re.compile(r"\bORD-\d{4}\b")
GIVE_UP_AFTER = {"lookup_order": 6, "search_kb": 5}  # identical "again" answers before it stops
ASK_AGAIN = ("check again", "try again")


@dataclass(frozen=True)
class Step:
    """A tool call the model made earlier in this turn, and what came back."""

    name: str
    arguments: dict[str, Any]
    result: str

    @property
    def failed(self) -> bool:
        return self.result.startswith("error:")

    def data(self) -> dict[str, Any]:
        try:
            value = json.loads(self.result)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Turn:
    """What the model sees: the customer's last message and the tool steps after it."""

    user: str
    steps: list[Step]

    def calls(self, name: str, arguments: dict[str, Any] | None = None) -> list[Step]:
        return [s for s in self.steps if s.name == name and arguments in (None, s.arguments)]

    @property
    def last(self) -> Step | None:
        return self.steps[-1] if self.steps else None


def read_turn(messages: list[dict[str, Any]]) -> Turn:
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    start = users[-1] if users else 0
    requested: dict[str, tuple[str, dict[str, Any]]] = {}
    steps: list[Step] = []
    for message in messages[start + 1 :]:
        for call in message.get("tool_calls") or []:
            arguments = json.loads(call["function"].get("arguments") or "{}")
            requested[call["id"]] = (call["function"]["name"], arguments)
        if message.get("role") == "tool" and message.get("tool_call_id") in requested:
            name, arguments = requested[message["tool_call_id"]]
            steps.append(Step(name, arguments, str(message.get("content") or "")))
    user = str(messages[start].get("content") or "") if users else ""
    return Turn(user, steps)


# -- what the model decides ---------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    content: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None


def say(text: str) -> Decision:
    return Decision(content=text)


def call(tool: str, **arguments: Any) -> Decision:
    return Decision(tool=tool, arguments=arguments)


def intent(text: str) -> str:
    lowered = text.lower()
    if "refund" in lowered and any(
        w in lowered for w in ("gone through", "processed", "status", "heard back")
    ):
        return "refund_status"
    if any(w in lowered for w in ("refund", "broken", "damaged", "cracked")):
        return "refund"
    if any(w in lowered for w in ("where is", "where's", "track", "arrived yet")):
        return "track"
    return "question"


def made_up_order_id(text: str) -> str:
    """The plausible-looking id the model invents when the customer gave none.

    It depends on the customer's words only, not on contact details, so the
    redacted message in a case makes the model invent the same id it did live.
    """
    words = re.sub(r"<redacted:[^>]*>|\S+@\S+", " ", text.lower())
    digest = int(hashlib.sha256(" ".join(re.findall(r"[a-z]+", words)).encode()).hexdigest(), 16)
    return f"ORD-{1040 + digest % 60}"


def kb_query(text: str) -> str:
    lowered = text.lower()
    if "canada" in lowered or "ship to" in lowered:
        return "international shipping canada"
    if "opened" in lowered or "return" in lowered:
        return "return policy opened items"
    return " ".join(re.findall(r"[a-z]+", lowered)[:6])


def decide(messages: list[dict[str, Any]]) -> Decision:
    turn = read_turn(messages)
    last = turn.last
    if last is not None and "Never guess an order id" in last.result:
        return say(
            "I'm sorry your order arrived damaged. So that I refund the right order, could you "
            "tell me its order number? It starts with ORD- and is in your confirmation email."
        )
    if last is not None and "already called with these exact arguments" in last.result:
        earlier = [s for s in turn.calls(last.name, last.arguments) if not s.failed]
        return answer_from(last.name, earlier[-1] if earlier else last)
    flows = {"track": track, "refund": refund, "refund_status": refund_status}
    return flows.get(intent(turn.user), question)(turn)


def order_id_for(turn: Turn) -> str:
    mentioned = ORDER_ID.findall(turn.user)
    return mentioned[0] if mentioned else made_up_order_id(turn.user)


def keeps_asking(turn: Turn, name: str, arguments: dict[str, Any]) -> bool:
    """True while the last answer says to ask again and the model has not given up yet."""
    tries = turn.calls(name, arguments)
    if not tries:
        return True
    again = any(phrase in tries[-1].result for phrase in ASK_AGAIN)
    return again and len(tries) < GIVE_UP_AFTER[name]


def track(turn: Turn) -> Decision:
    order_id = order_id_for(turn)
    if keeps_asking(turn, "lookup_order", {"order_id": order_id}):
        return call("lookup_order", order_id=order_id)
    return answer_from("lookup_order", turn.calls("lookup_order")[-1])


def question(turn: Turn) -> Decision:
    query = kb_query(turn.user)
    if keeps_asking(turn, "search_kb", {"query": query}):
        return call("search_kb", query=query)
    return answer_from("search_kb", turn.calls("search_kb")[-1])


def refund(turn: Turn) -> Decision:
    if not turn.calls("search_kb"):
        return call("search_kb", query="refund policy damaged item")
    order_id = order_id_for(turn)
    lookups = turn.calls("lookup_order", {"order_id": order_id})
    if not lookups:
        return call("lookup_order", order_id=order_id)
    order = lookups[-1].data()
    if lookups[-1].failed or not order:
        return say(f"I couldn't find order {order_id}. Could you double-check the number?")
    refunds = turn.calls("issue_refund")
    if not refunds:
        return call(
            "issue_refund", order_id=order_id, amount=order.get("total"), reason="arrived damaged"
        )
    return answer_from("issue_refund", refunds[-1])


def refund_status(turn: Turn) -> Decision:
    order_id = order_id_for(turn)
    checks = turn.calls("get_refund_status", {"order_id": order_id})
    escalations = turn.calls("escalate_to_human")
    if escalations:
        return answer_from("escalate_to_human", escalations[-1])
    if not checks or (checks[-1].failed and len(checks) < 2):
        return call("get_refund_status", order_id=order_id)
    if checks[-1].failed:
        return call(
            "escalate_to_human", reason="refund status service not responding", order_id=order_id
        )
    return answer_from("get_refund_status", checks[-1])


def answer_from(tool: str, step: Step) -> Decision:
    """The reply to the customer, written from the last result of ``tool``."""
    data = step.data()
    if step.failed:
        return say("I'm sorry, something went wrong on our side while checking that.")
    if tool == "lookup_order":
        tracking = data.get("tracking") or {}
        if tracking.get("status") == "pending":
            return say(
                f"Your order {data.get('order_id')} has shipped with {data.get('carrier')}, but "
                "the carrier hasn't sent a tracking update yet. It usually appears within a day."
            )
        eta = tracking.get("eta") or tracking.get("delivered_on")
        return say(
            f"Your order {data.get('order_id')} is {tracking.get('status', 'on its way')} "
            f"with {data.get('carrier')} ({eta})."
        )
    if tool == "search_kb":
        results = data.get("results") or []
        if not results:
            return say(
                "I couldn't find that in our help center right now. A colleague can confirm "
                "it for you if you reply here."
            )
        return say(f"{results[0]['text']} (from our help center: {results[0]['title']})")
    if tool == "issue_refund":
        return say(
            f"Done: I've refunded ${data.get('amount')} for order {data.get('order_id')} "
            f"(refund {data.get('refund_id')}). It reaches your card within 5 days."
        )
    if tool == "get_refund_status":
        return say(
            f"The refund {data.get('refund_id')} for order {data.get('order_id')} is "
            f"{data.get('status')} (${data.get('amount')})."
        )
    return say(
        "I'm sorry, our refund system isn't responding right now. I've passed your case to a "
        f"specialist (ticket {data.get('ticket_id')}), who will email you within 24 hours."
    )


# -- the chat-completions response --------------------------------------------------


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def completion(request: dict[str, Any]) -> dict[str, Any]:
    """The full chat-completions response body for ``request``."""
    messages = list(request.get("messages") or [])
    decision = decide(messages)
    digest = _digest(messages)
    message: dict[str, Any] = {"role": "assistant", "content": decision.content}
    if decision.tool is not None:
        arguments = json.dumps(decision.arguments)
        message["tool_calls"] = [
            {
                "id": f"call_{digest[:24]}",
                "type": "function",
                "function": {"name": decision.tool, "arguments": arguments},
            }
        ]
        said = arguments
    else:
        said = decision.content or ""
    prompt_tokens = (len(json.dumps(messages)) + len(json.dumps(request.get("tools") or []))) // 4
    completion_tokens = len(said) // 4 + 5
    return {
        "id": f"chatcmpl-{digest[24:48]}",
        "object": "chat.completion",
        "created": 1762160400,
        "model": request.get("model", "scripted"),
        "system_fingerprint": "fp_scripted",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if decision.tool else "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
