"""Best-effort vendor keys (lowest priority): only fill what no convention stated.

- Google ADK (``gcp.vertex.agent.*``): ``llm_request`` (Gemini ``contents`` plus
  ``config.system_instruction``), ``llm_response`` (``content``, ``finish_reason``,
  ``usage_metadata``), ``tool_call_args``, ``tool_response``, ``session_id``.
- mozilla-ai any-agent: ``gen_ai.output`` (LLM: text or a JSON list of
  ``{"tool.name", "tool.args"}``; TOOL: the result), ``gen_ai.output.type``,
  ``gen_ai.tool.args``, ``gen_ai.usage.input_cost``/``output_cost``.
- OpenLIT-style ``gen_ai.usage.cost``.
- openinference-genai's bare ``input``/``output`` keys.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.conventions.construct import build
from agent_backtest.trace.conventions.facts import Facts, KeyIndex
from agent_backtest.trace.conventions.messages import make_tool_call, parse_input, parse_output
from agent_backtest.trace.conventions.values import as_float, as_int, as_str, loads
from agent_backtest.trace.model import Message, SpanKind

_ADK = "gcp.vertex.agent."


def decode(attrs: dict[str, Any], ki: KeyIndex, f: Facts) -> None:
    get = attrs.get
    if f.input is None:
        f.input = get("input")
    if f.output is None:
        f.output = get("output")
    if ki.has_vertex:
        _adk(attrs, f)
    if ki.has_gen_ai:
        _any_agent(attrs, f)
    if f.kind is SpanKind.TOOL:
        if f.tool_arguments is None:
            f.tool_arguments = get("input")
        if f.tool_result is None:
            f.tool_result = get("output")
    elif f.kind is SpanKind.LLM:
        if f.input_messages is None and (value := get("input")) is not None:
            f.input_messages = parse_input(value) or None
        if (value := get("output")) is not None:
            _fill_output(f, value)


def _fill_output(f: Facts, value: Any) -> None:
    if f.output_messages is not None and f.finish_reasons is not None:
        return
    messages, reasons = parse_output(value)
    if f.output_messages is None:
        f.output_messages = messages or None
    if f.finish_reasons is None:
        f.finish_reasons = reasons or None


def _adk(attrs: dict[str, Any], f: Facts) -> None:
    get = attrs.get
    if f.session_id is None:
        f.session_id = as_str(get(_ADK + "session_id"))
    if f.wants_llm:
        request = loads(get(_ADK + "llm_request"))
        if isinstance(request, dict) and request:
            if f.model is None:
                f.model = as_str(request.get("model"))
            if f.input_messages is None:
                f.input_messages = parse_input(request) or None
        response = loads(get(_ADK + "llm_response"))
        if isinstance(response, dict) and response:
            _fill_output(f, response)
            usage = response.get("usage_metadata")
            if isinstance(usage, dict):
                _gemini_usage(usage, f)
    if f.wants_tool:
        if f.tool_arguments is None:
            f.tool_arguments = get(_ADK + "tool_call_args")
        if f.tool_result is None:
            f.tool_result = get(_ADK + "tool_response")


def _gemini_usage(usage: dict[str, Any], f: Facts) -> None:
    if f.input_tokens is None:
        f.input_tokens = as_int(usage.get("prompt_token_count"))
    if f.output_tokens is None:
        f.output_tokens = as_int(usage.get("candidates_token_count"))
    if f.total_tokens is None:
        f.total_tokens = as_int(usage.get("total_token_count"))
    if f.cache_read is None:
        f.cache_read = as_int(usage.get("cached_content_token_count"))


def _any_agent(attrs: dict[str, Any], f: Facts) -> None:
    get = attrs.get
    if f.cost is None:
        f.cost = as_float(get("gen_ai.usage.cost"))
        if f.cost is None:
            cost_in = as_float(get("gen_ai.usage.input_cost"))
            cost_out = as_float(get("gen_ai.usage.output_cost"))
            if cost_in is not None or cost_out is not None:
                f.cost = (cost_in or 0.0) + (cost_out or 0.0)
    output = get("gen_ai.output")
    if f.kind is SpanKind.TOOL:
        if f.tool_arguments is None:
            f.tool_arguments = get("gen_ai.tool.args")
        if f.tool_result is None and output is not None:
            f.tool_result = _typed_output(output, get("gen_ai.output.type"))
    elif f.kind is SpanKind.LLM and output is not None and f.output_messages is None:
        f.output_messages = [_any_agent_output(output, get("gen_ai.output.type"))]


def _typed_output(output: Any, output_type: Any) -> Any:
    """any-agent says when ``gen_ai.output`` is JSON, so scalars such as ``null`` parse too."""
    if output_type == "json" and isinstance(output, str):
        parsed = loads(output)
        if parsed is not None or output.strip() == "null":
            return parsed
    return output


def _any_agent_output(output: Any, output_type: Any) -> Message:
    """An LLM's ``gen_ai.output``: tool calls as ``[{"tool.name", "tool.args"}]``, or the reply."""
    parsed = loads(output) if output_type != "text" else None
    if (
        isinstance(parsed, list)
        and parsed
        and all(isinstance(c, dict) and "tool.name" in c for c in parsed)
    ):
        calls = [make_tool_call(c.get("id"), c["tool.name"], c.get("tool.args")) for c in parsed]
        return build(
            Message, role="assistant", content=None, tool_calls=calls, tool_call_id=None, name=None
        )
    return build(
        Message,
        role="assistant",
        content=output if isinstance(output, str) else str(output),
        tool_calls=[],
        tool_call_id=None,
        name=None,
    )
