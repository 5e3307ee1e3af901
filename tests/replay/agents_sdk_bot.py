"""A candidate built on the OpenAI Agents SDK: an ``Agent`` whose function tool is an ``@tool``.

The model is the SDK's Chat Completions model over an ``AsyncOpenAI`` client
pointed at ``OPENAI_BASE_URL`` (the tests' local server while recording,
nothing at all in replay). The SDK's own tracing is switched off per run: its
exporter would otherwise post to api.openai.com from a background thread.
"""

from __future__ import annotations

import os
from typing import Any

from agents import Agent, OpenAIChatCompletionsModel, RunConfig, Runner, function_tool
from openai import AsyncOpenAI

from agent_backtest.replay.tools import tool


@function_tool
@tool(read_only=True)
def lookup_order(order_id: str) -> dict[str, Any]:
    """Look up an order by its id.

    Args:
        order_id: The order id, e.g. A1.
    """
    raise RuntimeError("the real lookup_order must never run in these tests")


async def run(messages: list[dict[str, Any]]) -> str:
    client = AsyncOpenAI(base_url=os.environ["OPENAI_BASE_URL"], max_retries=0)
    agent = Agent(
        name="support",
        instructions="Answer questions about orders.",
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
        tools=[lookup_order],
    )
    question = str(messages[-1]["content"])
    result = await Runner.run(agent, question, run_config=RunConfig(tracing_disabled=True))
    return str(result.final_output)
