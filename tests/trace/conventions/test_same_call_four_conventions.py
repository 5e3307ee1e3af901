"""The same LLM call written in four conventions decodes to the same LLMCall."""

from __future__ import annotations

from typing import Any

import pytest

from agent_backtest.trace.model import LLMCall, Message, Span, SpanKind, ToolCallRequest

from .spans import attrs, decode

FOUR = [
    "openinference/openinference_client_span_tool_calls.json",
    "openinference/openinference_client_span_input_output_only.json",
    "openinference/otel_genai_client_span_tool_calls.json",
    "openinference/otel_genai_deprecated_client_span_tool_calls.json",
]
# Invocation parameters are not compared: the conventions genuinely spell them
# differently (OpenInference's request JSON vs GenAI's gen_ai.request.*).
COMPARED = {
    "provider",
    "model",
    "input_messages",
    "output_messages",
    "tool_calls",
    "usage",
    "finish_reasons",
}

EXPECTED_INPUT = [
    Message(role="user", content="Weather in Paris?"),
    Message(
        role="assistant",
        content="Absolutely! Let me check the weather for you.",
        tool_calls=[
            ToolCallRequest(
                id="1234",
                name="get_weather",
                arguments_raw='{"location":"Paris"}',
                arguments={"location": "Paris"},
            )
        ],
    ),
    Message(role="tool", content="rainy, 57°F", tool_call_id="1234"),
]
EXPECTED_OUTPUT = [
    Message(
        role="assistant",
        content="The weather in Paris is currently rainy with a temperature of 57°F.",
    )
]


def _llm(fixture: str) -> LLMCall:
    span = decode(attrs(fixture)).span
    assert span.kind is SpanKind.LLM
    assert span.llm is not None
    return span.llm


def _compared(llm: LLMCall) -> dict[str, Any]:
    return llm.model_dump(include=COMPARED)


@pytest.mark.parametrize("fixture", FOUR)
def test_each_convention_decodes_the_call(fixture: str) -> None:
    llm = _llm(fixture)
    assert llm.provider == "openai"
    assert llm.model == "gpt-4-0613"  # the response model wins over the requested "gpt-4"
    assert llm.input_messages == EXPECTED_INPUT
    assert llm.output_messages == EXPECTED_OUTPUT
    assert llm.usage.input == 97
    assert llm.usage.output == 52
    assert llm.usage.total == 149
    assert llm.finish_reasons == ["stop"]


def test_all_four_are_equal() -> None:
    first, *others = (_compared(_llm(f)) for f in FOUR)
    for other in others:
        assert other == first


def test_invocation_parameters_from_each_convention() -> None:
    oi = _llm(FOUR[0]).invocation_parameters
    genai = _llm(FOUR[2]).invocation_parameters
    assert oi == {"model": "gpt-4", "temperature": 0.5, "top_p": 0.9, "max_completion_tokens": 200}
    assert genai == {"max_tokens": 200, "temperature": 0.5, "top_p": 0.9}


def test_decoded_span_survives_strict_validation() -> None:
    """Decoders build models without validation; a strict round trip proves every field is set."""
    for fixture in FOUR:
        span = decode(attrs(fixture)).span
        assert Span.model_validate(span.model_dump()) == span


def test_raw_attributes_are_kept() -> None:
    attributes = attrs(FOUR[0])
    assert decode(attributes).span.attributes == attributes
