"""The production conversations the traces come from, and what on-call wrote about them.

Eight customer chats from one morning of the support agent in production:
four went fine, four went wrong. The labels are the human annotations the
on-call engineers added afterwards (a sidecar JSONL file, see
docs/trace-formats.md); the fine ones carry the outcome judge's label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Conversation:
    id: str
    started_at: str  # ISO 8601, UTC
    user: str  # the customer's message
    refund_service_down: bool = False  # the refund-service incident of that morning
    labels: list[dict[str, Any]] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        return f"chat-{self.id}"

    @property
    def start_ns(self) -> int:
        when = datetime.fromisoformat(self.started_at).replace(tzinfo=UTC)
        return int(when.timestamp()) * 1_000_000_000


def _human(label: str, explanation: str, annotator: str) -> dict[str, Any]:
    return {
        "name": "failure_mode",
        "label": label,
        "explanation": explanation,
        "annotator": annotator,
        "annotator_kind": "human",
    }


RESOLVED = {
    "name": "outcome",
    "label": "resolved",
    "annotator": "outcome-judge@3",
    "annotator_kind": "llm",
}

CONVERSATIONS = [
    Conversation(
        "20251103-0912-a41",
        "2025-11-03T09:12:04",
        "Hi! Where is my order ORD-1042?",
        labels=[RESOLVED],
    ),
    Conversation(
        "20251103-0918-b07",
        "2025-11-03T09:18:40",
        "Can I return headphones I've already opened?",
        labels=[RESOLVED],
    ),
    Conversation(
        "20251103-0925-c33",
        "2025-11-03T09:25:11",
        "Has my refund for ORD-1077 gone through yet?",
        labels=[RESOLVED],
    ),
    Conversation(
        "20251103-0931-d12",
        "2025-11-03T09:31:57",
        "My speaker from order ORD-1055 arrived damaged. Can I get a refund?",
        labels=[RESOLVED],
    ),
    Conversation(
        "20251103-0940-e58",
        "2025-11-03T09:40:23",
        "Hi, where's ORD-1089? It said shipped four days ago and nothing since.",
        labels=[
            _human(
                "looped",
                "called lookup_order 6 times for ORD-1089 while the carrier feed said "
                "'check again'; 8 s of the customer waiting",
                "oncall-priya",
            )
        ],
    ),
    Conversation(
        "20251103-0947-f90",
        "2025-11-03T09:47:36",
        "Hi, it's Dana Whitfield (dana.whitfield@example.com). My headphones arrived with a "
        "cracked headband, I'd like a refund please.",
        labels=[
            _human(
                "hallucinated_tool_input",
                "the customer never gave an order id; the agent made up ORD-1043, which is "
                "another customer's order, and refunded it ($229)",
                "oncall-priya",
            )
        ],
    ),
    Conversation(
        "20251103-1003-g24",
        "2025-11-03T10:03:02",
        "I sent back ORD-1063 two weeks ago. Has the refund been processed?",
        refund_service_down=True,
        labels=[
            _human(
                "cascading_retries",
                "refund service outage: get_refund_status timed out 6 times (3 loop retries "
                "for each of the model's 2 tries), a minute before escalating",
                "oncall-marco",
            )
        ],
    ),
    Conversation(
        "20251103-1011-h65",
        "2025-11-03T10:11:48",
        "Do you ship to Canada?",
        labels=[
            _human(
                "step_repetition",
                "search_kb with the same query 5 times while the help-center index was rebuilding",
                "oncall-marco",
            )
        ],
    ),
]
