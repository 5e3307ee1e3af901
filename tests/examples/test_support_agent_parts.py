"""The example's parts on their own: the candidate's guards, the step budget, the scripted model.

Live runs against the real scripted-model server and the in-memory shop, no replay:
what production did, and what the candidate does instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from examples.support_agent import candidate, production
from examples.support_agent.agent_loop import SYSTEM_PROMPT, Policy, converse
from examples.support_agent.backend import Backend, using_backend
from examples.support_agent.candidate import known_order_ids
from examples.support_agent.conversations import CONVERSATIONS
from examples.support_agent.model_server import ScriptedModelServer

# The production conversation where the model made up an order id (the id depends on the words).
NO_ORDER_ID = next(c.user for c in CONVERSATIONS if "order id" in str(c.labels))
CHECK_AGAIN = "Where's ORD-1089? It said shipped four days ago."


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "scripted-model")
        yield server


def _chat(user: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _tool_messages(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["content"]) for m in messages if m["role"] == "tool"]


@pytest.mark.usefixtures("model")
def test_production_refunds_an_order_id_the_model_made_up_and_the_candidate_asks() -> None:
    shop = Backend()
    with using_backend(shop):
        said = production.run(_chat(NO_ORDER_ID))
    assert "ORD-1043" in said
    assert shop.refunds["ORD-1043"]["status"] == "issued"  # another customer's order

    shop = Backend()
    messages = _chat(NO_ORDER_ID)
    with using_backend(shop):
        said = candidate.run(messages)
    assert "could you tell me its order number" in said
    assert "ORD-1043" not in shop.refunds
    assert "Never guess an order id" in _tool_messages(messages)[-1]


@pytest.mark.usefixtures("model")
def test_the_candidate_answers_from_the_first_result_instead_of_looping() -> None:
    messages = _chat(CHECK_AGAIN)
    with using_backend(Backend()):
        said = candidate.run(messages)
    assert "hasn't sent a tracking update yet" in said
    results = _tool_messages(messages)
    assert len(results) == 2
    assert results[1].startswith("error: lookup_order was already called")


@pytest.mark.usefixtures("model")
def test_the_step_budget_ends_a_loop_the_model_would_keep_going() -> None:
    budget = Policy(max_steps=3, tool_attempts=1)
    messages = _chat(CHECK_AGAIN)
    with using_backend(Backend()):
        said = converse(messages, budget)
    assert said == budget.out_of_steps
    assert len(_tool_messages(messages)) == 3


def test_known_order_ids_come_from_the_customer_and_successful_tool_results_only() -> None:
    messages = [
        {"role": "user", "content": "About ord-1042 please"},
        {"role": "assistant", "content": "Maybe ORD-1999?"},
        {"role": "tool", "tool_call_id": "a", "content": "error: order id 'ORD-1077' is unknown"},
        {"role": "tool", "tool_call_id": "b", "content": '{"related": "ORD-1055"}'},
    ]
    assert known_order_ids(messages) == {"ORD-1042", "ORD-1055"}


def test_the_scripted_model_speaks_the_openai_api(model: ScriptedModelServer) -> None:
    client = openai.OpenAI(base_url=model.base_url, api_key="scripted-model", max_retries=0)
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]
    request: Any = {"model": "gpt-4o-mini", "messages": _chat(CHECK_AGAIN)}
    first = client.chat.completions.create(**request)
    again = client.chat.completions.create(**request)
    assert first.model_dump() == again.model_dump()  # a pure function of the request
    call = first.choices[0].message.tool_calls
    assert call is not None
    assert call[0].function.name == "lookup_order"
    with pytest.raises(openai.BadRequestError, match="does not stream"):
        client.chat.completions.create(**request, stream=True)
