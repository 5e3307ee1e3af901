"""Rendering a judge's prompt template from a trace, with documented truncation.

Placeholders are ``{{name}}`` (spaces allowed inside the braces), so prompts can
contain JSON examples with single braces. The fields:

==============  ==================================================================
``input``       the user's request: the first user message the agent's LLM saw,
                else the root span's input
``output``      the final answer: the root span's output, else the last assistant
                message of the last LLM call
``tool_calls``  every tool call in start order: ``1. name(arguments) -> result``
                (or ``-> ERROR: message``)
``messages``    the conversation of the last LLM call (``role: content`` lines,
                plus its reply)
``labels``      the judge's labels with their descriptions, one per line
``trace_id``    the trace id
==============  ==================================================================

Truncation: each field has a character limit (``DEFAULT_LIMITS``, overridable per
judge under ``truncation:``); each tool argument/result is first cut to
``tool_result`` characters. A value over its limit keeps its head and tail and
replaces the middle with ``…[N chars elided]…``, because the start (what was
asked) and the end (how it finished) carry most of the signal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agent_backtest.trace.model import Message, Span, SpanKind, Trace

FIELDS = ("input", "output", "tool_calls", "messages", "labels", "trace_id")
DEFAULT_LIMITS: dict[str, int] = {
    "input": 4000,
    "output": 4000,
    "tool_calls": 8000,
    "tool_result": 1000,
    "messages": 12000,
}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def elide(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters by removing the middle, marked."""
    if len(text) <= limit:
        return text
    removed = len(text) - limit
    marker = f"…[{removed} chars elided]…"
    # The marker itself takes room; keep the budget for content honest.
    keep = max(0, limit - len(marker))
    head = keep - keep // 2
    tail = keep // 2
    removed = len(text) - head - tail
    marker = f"…[{removed} chars elided]…"
    return text[:head] + marker + (text[-tail:] if tail else "")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _ordered(trace: Trace) -> list[Span]:
    return sorted(trace.spans, key=lambda s: s.start_ns)


def user_input(trace: Trace) -> str:
    for span in _ordered(trace):
        if span.llm is not None:
            for message in span.llm.input_messages:
                if message.role == "user" and message.content:
                    return message.content
    roots = trace.roots
    return _text(roots[0].input) if roots else ""


def final_output(trace: Trace) -> str:
    roots = trace.roots
    if roots and roots[0].output is not None:
        return _text(roots[0].output)
    for span in reversed(_ordered(trace)):
        if span.llm is not None:
            for message in reversed(span.llm.output_messages):
                if message.content:
                    return message.content
    return ""


def tool_calls(trace: Trace, per_call_limit: int) -> str:
    lines: list[str] = []
    for span in _ordered(trace):
        if span.kind is not SpanKind.TOOL:
            continue
        tool = span.tool
        name = tool.name if tool else span.name
        args = (
            tool.arguments
            if tool and tool.arguments is not None
            else (tool.arguments_raw if tool else span.input)
        )
        if tool is not None and tool.error is not None:
            result = "ERROR: " + tool.error
        else:
            result = _text(tool.result if tool and tool.result is not None else span.output)
        lines.append(
            f"{len(lines) + 1}. {name}({elide(_text(args), per_call_limit)})"
            f" -> {elide(result, per_call_limit)}"
        )
    return "\n".join(lines) if lines else "(no tool calls)"


def _message_line(message: Message) -> str:
    text = message.content or ""
    if message.tool_calls:
        calls = ", ".join(
            f"{c.name}({_text(c.arguments or c.arguments_raw)})" for c in message.tool_calls
        )
        text = f"{text} [tool calls: {calls}]".strip()
    return f"{message.role}: {text}"


def messages(trace: Trace) -> str:
    last = next((s for s in reversed(_ordered(trace)) if s.llm is not None), None)
    if last is None or last.llm is None:
        return "(no LLM calls)"
    conversation = [*last.llm.input_messages, *last.llm.output_messages]
    return "\n".join(_message_line(m) for m in conversation)


def trace_fields(
    trace: Trace, labels_text: str, limits: Mapping[str, int], needed: Iterable[str] = FIELDS
) -> dict[str, str]:
    """The placeholder values in ``needed`` for ``trace``, each truncated to its limit."""
    merged = {**DEFAULT_LIMITS, **limits}
    makers: dict[str, Callable[[], str]] = {
        "input": lambda: elide(user_input(trace), merged["input"]),
        "output": lambda: elide(final_output(trace), merged["output"]),
        "tool_calls": lambda: elide(tool_calls(trace, merged["tool_result"]), merged["tool_calls"]),
        "messages": lambda: elide(messages(trace), merged["messages"]),
        "labels": lambda: labels_text,
        "trace_id": lambda: trace.trace_id,
    }
    return {name: makers[name]() for name in needed}


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``{{name}}`` placeholders in one pass (values are never re-scanned)."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
