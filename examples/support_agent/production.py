"""The support agent as it ran in production when the traces were taken.

Its policy has three bugs, each visible in ``traces/production.otlp.jsonl``:
no step budget (``step_repetition``), no check of the arguments the model
writes (``hallucinated_tool_input``), and a retry loop of its own on top of
the model asking again and the OpenAI client's retries (``cascading_retries``).
``candidate.py`` is the same agent with the fixes: diff the two files.
"""

from __future__ import annotations

from typing import Any

from examples.support_agent.agent_loop import Policy, converse

POLICY = Policy(
    # No step budget: while a tool answers "check again", the model asks again.
    max_steps=None,
    # Every failed tool call is retried 3 times here, and the model asks again on
    # top: one outage costs 2 x 3 timeouts before anyone escalates.
    tool_attempts=3,
    # No checks: an order id the model made up goes straight to the tools.
    vet=None,
)


def run(messages: list[dict[str, Any]]) -> str:
    """The agent contract: the conversation in, the reply to the customer out."""
    return converse(messages, POLICY)
