"""OpenLLMetry indexed keys, structured GenAI values, deprecated message events, vendor keys."""

from __future__ import annotations

import pytest

from agent_backtest.trace.model import SpanKind
from agent_backtest.trace.raw import RawEvent

from .spans import attrs, decode


def test_openllmetry_indexed_keys() -> None:
    span = decode(attrs("openllmetry_chat.json"), name="openai.chat").span
    assert span.kind is SpanKind.LLM  # from llm.request.type, no operation name
    llm = span.llm
    assert llm is not None
    assert (llm.provider, llm.model) == ("openai", "gpt-4.1-mini-2025-04-14")
    assert [m.role for m in llm.input_messages] == ["system", "user", "assistant", "tool"]
    assert llm.input_messages[2].tool_calls[0].name == "helm_list_releases"
    assert llm.input_messages[2].tool_calls[0].arguments == {}
    assert llm.input_messages[3].tool_call_id == "call_1"
    [call] = llm.tool_calls
    assert (call.id, call.name) == ("call_2", "helm_get_release")
    assert call.arguments == {"name": "kagent", "namespace": "kagent"}
    assert llm.finish_reasons == ["tool_calls"]
    assert (llm.usage.input, llm.usage.output, llm.usage.total) == (1956, 31, 1987)
    assert llm.usage.cache_read == 1792


def test_genai_structured_values_and_system_instructions() -> None:
    decoded = decode(attrs("genai_structured.json"))
    llm = decoded.span.llm
    assert llm is not None
    assert [(m.role, m.content) for m in llm.input_messages] == [
        ("system", "You are a travel agent."),
        ("user", "Book Paris"),
    ]
    [out] = llm.output_messages
    assert out.content is None  # reasoning is not reply text
    assert out.tool_calls[0].arguments == {"to": "CDG"}
    assert out.tool_calls[0].arguments_raw == '{"to":"CDG"}'
    assert llm.tool_calls == out.tool_calls
    assert llm.finish_reasons == ["tool_call"]
    assert (llm.usage.input, llm.usage.output, llm.usage.total) == (812, 40, 852)
    assert (llm.usage.cache_read, llm.usage.cache_write) == (700, 12)
    assert llm.invocation_parameters == {"max_tokens": 1024, "temperature": 0.0}
    assert (decoded.session_id, decoded.agent_name, decoded.agent_id) == (
        "conv-42",
        "travel",
        "agent-7",
    )


def test_deprecated_per_message_events() -> None:
    events = [
        RawEvent("gen_ai.system.message", 1, {"gen_ai.system": "openai", "content": "Be brief."}),
        RawEvent("gen_ai.user.message", 2, {"content": "Weather?"}),
        RawEvent(
            "gen_ai.assistant.message",
            3,
            {
                "tool_calls": '[{"id": "c1", "type": "function", '
                '"function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]'
            },
        ),
        RawEvent("gen_ai.tool.message", 4, {"content": "rainy", "id": "c1"}),
        RawEvent(
            "gen_ai.choice",
            5,
            {"index": 0, "finish_reason": "stop", "message": {"content": "It is rainy."}},
        ),
    ]
    llm = decode({"gen_ai.operation.name": "chat"}, events=events).span.llm
    assert llm is not None
    assert [m.role for m in llm.input_messages] == ["system", "user", "assistant", "tool"]
    assert llm.input_messages[2].tool_calls[0].arguments == {"city": "Paris"}
    assert llm.input_messages[3].tool_call_id == "c1"
    assert [(m.role, m.content) for m in llm.output_messages] == [("assistant", "It is rainy.")]
    assert llm.finish_reasons == ["stop"]


def test_google_adk_llm_span() -> None:
    decoded = decode(attrs("adk_call_llm.json"), name="call_llm")
    span = decoded.span
    assert span.kind is SpanKind.LLM
    llm = span.llm
    assert llm is not None
    assert llm.model == "gpt-4.1-mini"
    assert [m.role for m in llm.input_messages] == ["system", "user", "assistant", "tool"]
    assert llm.input_messages[2].tool_calls[0].name == "helm_list_releases"
    assert llm.input_messages[3].tool_call_id == "call_1"
    assert [m.content for m in llm.output_messages] == ["One release: kagent."]
    assert llm.finish_reasons == ["stop"]  # the JSON-string GenAI key beats ADK's "STOP"
    assert (llm.usage.input, llm.usage.output, llm.usage.total) == (120, 7, 127)
    assert decoded.session_id == "ctx-1"


def test_google_adk_tool_span_with_mcp_error() -> None:
    span = decode(attrs("adk_execute_tool.json"), name="execute_tool helm_list_releases").span
    assert span.tool is not None
    assert span.tool.arguments == {"namespace": "kagent"}
    assert span.tool.result["isError"] is True
    assert span.tool.error == "namespace kagent not found"
    assert span.is_error


def test_any_agent_llm_span() -> None:
    llm = decode(attrs("any_agent_call_llm.json")).span.llm
    assert llm is not None
    assert llm.model == "mistral/mistral-small-latest"
    assert [m.role for m in llm.input_messages] == ["system", "user"]
    [call] = llm.tool_calls
    assert (call.name, call.arguments) == ("get_current_time", {"timezone": "America/New_York"})
    assert llm.cost == pytest.approx(2.69e-05 + 4.8e-06)


def test_any_agent_tool_span() -> None:
    tool = decode(attrs("any_agent_execute_tool.json")).span.tool
    assert tool is not None
    assert tool.arguments == {"timezone": "America/New_York"}
    assert tool.result["is_dst"] is True


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        ({"openinference.span.kind": "agent"}, SpanKind.AGENT),
        ({"openinference.span.kind": "PROMPT"}, SpanKind.CHAIN),
        ({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"}, SpanKind.AGENT),
        ({"gen_ai.operation.name": "embeddings"}, SpanKind.EMBEDDING),
        ({"traceloop.span.kind": "workflow"}, SpanKind.CHAIN),
        ({"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 3}, SpanKind.LLM),
        ({"gen_ai.conversation.id": "c"}, SpanKind.UNKNOWN),
    ],
)
def test_kind(attributes: dict[str, object], kind: SpanKind) -> None:
    assert decode(attributes).span.kind is kind


def test_agent_span_has_no_llm_call_even_with_a_model() -> None:
    decoded = decode(
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "any_agent",
            "gen_ai.request.model": "m",
        }
    )
    assert decoded.span.llm is None
    assert decoded.agent_name == "any_agent"


def test_string_numbers_and_json_list_finish_reasons() -> None:
    llm = decode(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": "12",
            "gen_ai.response.finish_reasons": '["STOP"]',
        }
    ).span.llm
    assert llm is not None
    assert llm.usage.input == 12
    assert llm.finish_reasons == ["stop"]


def test_any_agent_json_null_tool_result() -> None:
    tool = decode(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "write_file",
            "gen_ai.tool.args": '{"text": "2025"}',
            "gen_ai.output": "null",
            "gen_ai.output.type": "json",
        }
    ).span.tool
    assert tool is not None
    assert tool.result is None
