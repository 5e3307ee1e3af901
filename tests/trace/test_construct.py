"""The hot-path builders must fill exactly the model's fields, in the model's order."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from agent_backtest.trace.conventions import construct
from agent_backtest.trace.model import (
    LLMCall,
    Message,
    Span,
    SpanStatus,
    TokenUsage,
    ToolCall,
    ToolCallRequest,
)

BUILDERS: list[tuple[Callable[..., BaseModel], type[BaseModel]]] = [
    (construct.build_message, Message),
    (construct.build_tool_call_request, ToolCallRequest),
    (construct.build_status, SpanStatus),
    (construct.build_usage, TokenUsage),
    (construct.build_llm_call, LLMCall),
    (construct.build_tool_call, ToolCall),
    (construct.build_span, Span),
]


@pytest.mark.parametrize(("builder", "model"), BUILDERS, ids=lambda x: getattr(x, "__name__", ""))
def test_builder_takes_exactly_the_model_fields(
    builder: Callable[..., BaseModel], model: type[BaseModel]
) -> None:
    assert list(inspect.signature(builder).parameters) == list(model.model_fields)


def test_built_instance_equals_the_validated_one() -> None:
    values: dict[str, Any] = {
        "role": "user",
        "content": "hi",
        "tool_calls": [],
        "tool_call_id": None,
        "name": None,
    }
    built = construct.build_message(**values)
    assert built == Message.model_validate(values)
    assert built.model_fields_set == set(Message.model_fields)
    built.content = "changed"  # still an ordinary mutable model
    assert built.model_dump()["content"] == "changed"
