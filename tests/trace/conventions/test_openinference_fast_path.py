"""Edge cases of the memoized OpenInference key pass (facts.index_keys + slot lists)."""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.model import Message
from tests.trace.conventions.spans import decode


def _messages(attributes: dict[str, Any]) -> tuple[list[Message], list[Message]]:
    llm = decode({"openinference.span.kind": "LLM", **attributes}).span.llm
    assert llm is not None
    return llm.input_messages, llm.output_messages


def test_indexes_out_of_order_are_sorted_numerically() -> None:
    inputs, _ = _messages(
        {
            "llm.input_messages.10.message.role": "user",
            "llm.input_messages.10.message.content": "third",
            "llm.input_messages.2.message.role": "assistant",
            "llm.input_messages.2.message.content": "second",
            "llm.input_messages.0.message.content": "first",
            "llm.input_messages.x.message.content": "not an index",
        }
    )
    assert [(m.role, m.content) for m in inputs] == [
        ("user", "first"),
        ("assistant", "second"),
        ("user", "third"),
    ]


def test_contents_tool_calls_and_plain_fields_in_one_message() -> None:
    _, outputs = _messages(
        {
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.contents.1.message_content.text": "b",
            "llm.output_messages.0.message.contents.0.message_content.type": "text",
            "llm.output_messages.0.message.contents.0.message_content.text": "a",
            "llm.output_messages.0.message.tool_calls.1.tool_call.function.name": "second",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "c0",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "first",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"x": 1}',
            "llm.output_messages.0.message.name": 7,
        }
    )
    (message,) = outputs
    assert message.content == "ab"
    assert message.name == "7"
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("c0", "first", {"x": 1}),
        (None, "second", None),
    ]


def test_null_valued_keys_and_legacy_function_call() -> None:
    inputs, _ = _messages(
        {
            "llm.input_messages.0.message.role": None,
            "llm.input_messages.0.message.content": "hi",
            "llm.input_messages.0.message.function_call_name": "lookup",
            "llm.input_messages.0.message.function_call_arguments_json": '{"id": 3}',
        }
    )
    (message,) = inputs
    assert (message.role, message.content) == ("user", "hi")
    assert [(c.name, c.arguments) for c in message.tool_calls] == [("lookup", {"id": 3})]


def test_the_same_keys_decode_the_same_on_every_span() -> None:
    # The second span hits the memo filled by the first one.
    attributes = {
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "hello",
    }
    assert _messages(attributes) == _messages(dict(attributes))
