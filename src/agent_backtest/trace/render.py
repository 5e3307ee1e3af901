"""A trace as a terminal tree, like a trace viewer's waterfall without the bars."""

from __future__ import annotations

from agent_backtest.trace.model import Span, SpanKind, StatusCode, Trace

_KIND_COLOR = {
    SpanKind.AGENT: "\x1b[35m",
    SpanKind.LLM: "\x1b[36m",
    SpanKind.TOOL: "\x1b[33m",
}
_RESET = "\x1b[0m"
_RED = "\x1b[31m"


def format_duration(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.1f}ms"
    return f"{ns / 1e3:.0f}µs"


def _span_line(span: Span, depth: int, color: bool) -> str:
    kind = span.kind.value
    if color and span.kind in _KIND_COLOR:
        kind = f"{_KIND_COLOR[span.kind]}{kind}{_RESET}"
    parts = [f"{'  ' * depth}{kind:<9} {span.name}", format_duration(span.duration_ns)]
    if span.llm is not None:
        usage = span.llm.usage
        if usage.input is not None or usage.output is not None:
            parts.append(f"tokens {usage.input or 0}→{usage.output or 0}")
        if span.llm.model:
            parts.append(span.llm.model)
        if span.llm.tool_calls:
            parts.append("calls " + ", ".join(c.name for c in span.llm.tool_calls))
    if span.status.code is StatusCode.ERROR or (span.tool is not None and span.tool.error):
        message = span.status.message or (span.tool.error if span.tool else None) or "error"
        parts.append(f"{_RED}ERROR {message}{_RESET}" if color else f"ERROR {message}")
    return "  ".join(parts)


def render_tree(trace: Trace, *, color: bool = False) -> str:
    metrics = trace.metrics
    head = (
        f"trace {trace.trace_id}"
        + (f"  session {trace.session_id}" if trace.session_id else "")
        + (f"  agent {trace.agent_name}" if trace.agent_name else "")
        + f"  {len(trace.spans)} spans  {format_duration(metrics.duration_ns)}"
        + f"  llm {metrics.llm_calls}  tools {metrics.tool_calls}  tokens {metrics.total_tokens}"
    )
    lines = [head]
    lines.extend(_span_line(span, depth + 1, color) for depth, span in trace.walk())
    for annotation in trace.annotations:
        target = annotation.target.span_id or "trace"
        value = annotation.label if annotation.label is not None else annotation.score
        lines.append(
            f"  # {annotation.name}={value} on {target} by {annotation.annotator_kind.value}"
        )
    return "\n".join(lines)
