"""One span carrying several conventions decodes like the clean one; lower ones only fill gaps."""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.model import SpanKind

from .spans import attrs, decode

CLEAN = "openinference/openinference_client_span_tool_calls.json"
MIXED = "mixed_all_conventions.json"


def _without_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    # Raw attributes are kept on the Span, so they differ by construction.
    return decode(attributes).span.model_dump(exclude={"attributes"})


def test_mixed_span_equals_the_clean_span() -> None:
    assert _without_attributes(attrs(MIXED)) == _without_attributes(attrs(CLEAN))


def test_mixed_span_really_carries_conflicting_lower_conventions() -> None:
    """Guards the test above: if the fixture lost its conflicts it would prove nothing."""
    mixed = attrs(MIXED)
    assert mixed["gen_ai.response.model"] != mixed["llm.model_name"]
    assert mixed["gen_ai.usage.input_tokens"] != mixed["llm.token_count.prompt"]
    assert "gen_ai.prompt.0.content" in mixed
    assert "gen_ai.completion" in mixed


def test_lower_convention_fills_what_the_higher_one_lacks() -> None:
    clean = attrs(CLEAN)
    for key in ("llm.token_count.prompt", "llm.token_count.completion", "llm.token_count.total"):
        del clean[key]
    clean["gen_ai.usage.input_tokens"] = 97
    clean["gen_ai.usage.output_tokens"] = 52
    clean["gen_ai.usage.cache_read.input_tokens"] = 64
    llm = decode(clean).span.llm
    assert llm is not None
    assert (llm.usage.input, llm.usage.output, llm.usage.total) == (97, 52, 149)
    assert llm.usage.cache_read == 64
    assert llm.model == "gpt-4-0613"  # still OpenInference's


def test_openllmetry_fills_messages_when_genai_has_none() -> None:
    span = decode(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "hi",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "hello",
            "gen_ai.completion.0.finish_reason": "stop",
        }
    ).span
    assert span.kind is SpanKind.LLM
    assert span.llm is not None
    assert [(m.role, m.content) for m in span.llm.input_messages] == [("user", "hi")]
    assert [(m.role, m.content) for m in span.llm.output_messages] == [("assistant", "hello")]
    assert span.llm.finish_reasons == ["stop"]


def test_genai_beats_deprecated_and_openllmetry() -> None:
    span = decode(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.prompt_tokens": 11,
            "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "new"}]}]',
            "gen_ai.prompt": '[{"role": "user", "content": "deprecated"}]',
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "indexed",
        }
    ).span
    assert span.llm is not None
    assert span.llm.usage.input == 10
    assert [m.content for m in span.llm.input_messages] == ["new"]
