"""The support agent's "production": a small in-memory shop (orders, refunds, help center).

It stands for the real services behind the tools. Only production ever talks
to it: during replay the tools answer from the case's recordings and never
reach this module. The data is small but shaped like the real thing, including
the two incidents the production traces caught: a carrier that had not sent a
tracking update, and a refund service that timed out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


class BackendError(Exception):
    """A backend call failed; the message names the service and what went wrong."""


class OrderNotFoundError(BackendError):
    pass


class RefundServiceTimeoutError(BackendError):
    pass


ORDERS: dict[str, dict[str, Any]] = {
    "ORD-1042": {
        "customer": "cus_7Hq2",
        "items": [{"sku": "HP-200", "name": "Studio headphones", "qty": 1, "price": 149.0}],
        "total": 149.0,
        "status": "shipped",
        "carrier": "UPS",
        "tracking": {"status": "out_for_delivery", "eta": "2025-11-04"},
    },
    "ORD-1055": {
        "customer": "cus_3Lm9",
        "items": [{"sku": "SP-10", "name": "Portable speaker", "qty": 1, "price": 89.0}],
        "total": 89.0,
        "status": "delivered",
        "carrier": "DHL",
        "tracking": {"status": "delivered", "delivered_on": "2025-10-30"},
    },
    "ORD-1063": {
        "customer": "cus_5Rt1",
        "items": [{"sku": "EB-3", "name": "Wireless earbuds", "qty": 1, "price": 119.0}],
        "total": 119.0,
        "status": "returned",
        "carrier": "UPS",
        "tracking": {"status": "delivered", "delivered_on": "2025-10-12"},
    },
    "ORD-1077": {
        "customer": "cus_9Wd4",
        "items": [{"sku": "CB-1", "name": "Braided USB-C cable", "qty": 2, "price": 12.5}],
        "total": 25.0,
        "status": "returned",
        "carrier": "USPS",
        "tracking": {"status": "delivered", "delivered_on": "2025-10-20"},
    },
    "ORD-1089": {
        "customer": "cus_2Kp8",
        "items": [{"sku": "TT-1", "name": "Turntable", "qty": 1, "price": 329.0}],
        "total": 329.0,
        "status": "shipped",
        "carrier": "DHL",
        # The carrier went quiet: the tracking feed says to check back later.
        "tracking": {
            "status": "pending",
            "message": "carrier has not sent an update yet, check again",
        },
    },
    "ORD-1043": {
        "customer": "cus_8Vb6",
        "items": [
            {"sku": "HP-300", "name": "Noise-cancelling headphones", "qty": 1, "price": 229.0}
        ],
        "total": 229.0,
        "status": "delivered",
        "carrier": "UPS",
        "tracking": {"status": "delivered", "delivered_on": "2025-11-01"},
    },
}

REFUNDS: dict[str, dict[str, Any]] = {
    "ORD-1077": {
        "refund_id": "RF-5003",
        "status": "processed",
        "amount": 25.0,
        "processed_on": "2025-10-24",
    },
    "ORD-1063": {"refund_id": "RF-5007", "status": "pending", "amount": 119.0},
}

ARTICLES: list[dict[str, Any]] = [
    {
        "id": "kb-returns",
        "title": "Returns and refunds",
        "topics": ["return", "refund", "opened", "policy"],
        "text": "Items can be returned within 30 days. Opened items are accepted if they are "
        "undamaged and complete; refunds go back to the original payment method within 5 days.",
    },
    {
        "id": "kb-damaged",
        "title": "Items that arrive damaged",
        "topics": ["damaged", "broken", "cracked", "refund"],
        "text": "If an item arrives damaged, agents may refund the full order total at once; "
        "the customer does not need to send the item back.",
    },
    {
        "id": "kb-shipping",
        "title": "Shipping destinations",
        "topics": ["shipping", "international", "canada", "ship"],
        "text": "We ship to the US and Canada; Canadian orders take 5-8 business days.",
    },
]
# The help-center topics whose search index was being rebuilt when the traces were taken.
REINDEXING_TOPICS = frozenset({"shipping", "international"})

# How long each call takes in production, in milliseconds: the trace clock uses these.
LATENCY_MS = {
    "lookup_order": 140,
    "get_refund_status": 110,
    "issue_refund": 850,
    "search_kb": 90,
    "escalate_to_human": 300,
}
TIMEOUT_MS = 10_000


@dataclass
class Backend:
    """One shop; a fresh copy per conversation keeps regenerated traces identical."""

    refund_service_down: bool = False
    orders: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(ORDERS))
    refunds: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(REFUNDS))
    tickets: list[dict[str, Any]] = field(default_factory=list)
    next_refund: int = 5101

    def order(self, order_id: str) -> dict[str, Any]:
        found = self.orders.get(order_id.strip().upper())
        if found is None:
            raise OrderNotFoundError(f"no order {order_id!r}")
        return {"order_id": order_id.strip().upper(), **copy.deepcopy(found)}

    def refund_status(self, order_id: str) -> dict[str, Any]:
        if self.refund_service_down:
            raise RefundServiceTimeoutError(
                f"refund service did not answer in {TIMEOUT_MS // 1000}s"
            )
        refund = self.refunds.get(order_id.strip().upper())
        if refund is None:
            return {"order_id": order_id, "status": "none", "message": "no refund on this order"}
        return {"order_id": order_id, **refund}

    def refund(self, order_id: str, amount: float, reason: str) -> dict[str, Any]:
        order = self.order(order_id)
        if amount > order["total"]:
            raise BackendError(f"amount {amount} exceeds the order total {order['total']}")
        refund = {
            "refund_id": f"RF-{self.next_refund}",
            "status": "issued",
            "amount": amount,
            "reason": reason,
        }
        self.next_refund += 1
        self.refunds[order["order_id"]] = refund
        return {"order_id": order["order_id"], **refund}

    def search(self, query: str) -> dict[str, Any]:
        words = set(query.lower().replace("?", " ").split())
        if words & REINDEXING_TOPICS:
            return {
                "results": [],
                "status": "reindexing",
                "message": "search index is being rebuilt, try again",
            }
        hits = [a for a in ARTICLES if words & set(a["topics"])]
        hits.sort(key=lambda a: -len(words & set(a["topics"])))
        return {"results": [{k: a[k] for k in ("id", "title", "text")} for a in hits[:2]]}

    def escalate(self, order_id: str | None, reason: str) -> dict[str, Any]:
        ticket = {"ticket_id": f"T-{8800 + len(self.tickets) + 1}", "queue": "tier-2"}
        self.tickets.append({**ticket, "order_id": order_id, "reason": reason})
        return {**ticket, "message": "a support specialist will reply by email within 24 hours"}


_ACTIVE: ContextVar[Backend | None] = ContextVar("support_agent_backend", default=None)


def current_backend() -> Backend:
    """The shop the tools talk to (a fresh one when none was installed)."""
    backend = _ACTIVE.get()
    if backend is None:
        backend = Backend()
        _ACTIVE.set(backend)
    return backend


@contextmanager
def using_backend(backend: Backend) -> Iterator[Backend]:
    token = _ACTIVE.set(backend)
    try:
        yield backend
    finally:
        _ACTIVE.reset(token)
