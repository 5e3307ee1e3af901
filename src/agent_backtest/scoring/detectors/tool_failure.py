"""``silent_tool_failure`` and ``tool_error_rate``: tools that fail, noticed or not."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, validate_call

from agent_backtest.scoring.detectors.base import (
    Detector,
    Finding,
    ToolUse,
    as_text,
    in_order,
    output_text,
    plural,
    short,
    span_ids,
    tool_uses,
)
from agent_backtest.trace.model import Span, SpanKind, Trace

DEFAULT_ACK_WORDS: tuple[str, ...] = (
    "error",
    "errors",
    "fail",
    "failed",
    "fails",
    "failure",
    "unable",
    "sorry",
    "apologize",
    "apologies",
    "unfortunately",
    "could not",
    "couldn't",
    "cannot",
    "can't",
    "unavailable",
    "not available",
    "went wrong",
    "timed out",
    "timeout",
    "problem",
    "issue",
)


class SilentToolFailure(Detector):
    """A tool returned an error and the agent carried on as if it had succeeded.

    An error is a span with error status, a ``tool.error``, or an error payload
    in the result (``{"error": ...}``, ``{"status": "failed"}``, ``"Error: ..."``).
    It is *silent* when the tool is not called again later in the run, and the
    next text the agent produced (its next LLM output with words in it, else the
    root span's final output) contains none of ``ack_words`` (case-insensitive,
    whole words) and does not quote the error message. A run that ends right
    after the error has not carried on, so it does not count.

    Parameters: ``ack_words`` (default: error, failed, unable, sorry, could not,
    cannot, unavailable, ... see ``DEFAULT_ACK_WORDS``).
    Evidence: the failed TOOL span and the span whose text carried on.
    """

    id = "silent_tool_failure"
    version = "1"
    failure_mode = "silent_tool_failure"

    @validate_call
    def __init__(self, *, ack_words: tuple[str, ...] = DEFAULT_ACK_WORDS) -> None:
        self.ack_words = ack_words
        words = "|".join(re.escape(w) for w in sorted(ack_words, key=len, reverse=True))
        self._ack = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)

    def params(self) -> dict[str, object]:
        return {"ack_words": self.ack_words}

    def detect(self, trace: Trace) -> Finding:
        uses = tool_uses(trace)
        llm_spans = in_order(trace, SpanKind.LLM)
        silent: list[str] = []
        evidence: list[str] = []
        failures = 0
        for i, use in enumerate(uses):
            error = use.error
            if error is None:
                continue
            failures += 1
            if any(later.name == use.name for later in uses[i + 1 :]):
                continue  # retried: the agent noticed
            reply = _next_words(trace, use, llm_spans)
            if reply is None:
                continue
            speaker, text = reply
            if self._ack.search(text) or (error and error.lower() in text.lower()):
                continue
            silent.append(
                f"{use.name} returned an error ({error}) and the next answer "
                f"({speaker.span_id}: {short(text, 80)!r}) carried on without mentioning it "
                f"or retrying {use.name}"
            )
            evidence.extend((use.span.span_id, speaker.span_id))
        if silent:
            return Finding(True, "; ".join(silent), tuple(evidence), float(len(silent)))
        if failures == 0:
            return Finding(False, "no tool call failed", value=0.0)
        return Finding(
            False,
            f"{plural(failures, 'failed tool call')}, each retried or acknowledged",
            value=0.0,
        )


def _next_words(trace: Trace, use: ToolUse, llm_spans: list[Span]) -> tuple[Span, str] | None:
    after = use.span.end_ns if use.span.kind is SpanKind.TOOL else use.span.start_ns + 1
    for span in llm_spans:
        if span.start_ns >= after and span is not use.span:
            text = output_text(span)
            if text.strip():
                return span, text
    for root in trace.roots:
        text = as_text(root.output)
        if text.strip() and root is not use.span:
            return root, text
    return None


class ToolErrorRate(Detector):
    """The share of tool calls that failed is over ``max_error_rate`` (default 0.2).

    Runs with fewer than ``min_tool_calls`` (default 3) tool calls are not judged:
    one failure out of one call is a rate of 100% that says little, and
    ``silent_tool_failure`` covers the single failure that matters.
    Evidence: every failed TOOL span.
    """

    id = "tool_error_rate"
    version = "1"
    failure_mode = "tool_error_rate"

    @validate_call
    def __init__(
        self,
        *,
        max_error_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.2,
        min_tool_calls: Annotated[int, Field(ge=1)] = 3,
    ) -> None:
        self.max_error_rate = max_error_rate
        self.min_tool_calls = min_tool_calls

    def detect(self, trace: Trace) -> Finding:
        uses = [u for u in tool_uses(trace) if u.span.kind is SpanKind.TOOL]
        failed = [u for u in uses if u.error is not None]
        rate = len(failed) / len(uses) if uses else 0.0
        summary = f"{len(failed)} of {plural(len(uses), 'tool call')} failed ({rate:.0%})"
        if len(uses) < self.min_tool_calls:
            return Finding(
                False, f"{summary}; fewer than {self.min_tool_calls} calls to judge", value=rate
            )
        if rate > self.max_error_rate:
            names = sorted({u.name for u in failed})
            return Finding(
                True,
                f"{summary}, over the {self.max_error_rate:.0%} threshold "
                f"(failing: {', '.join(names)})",
                span_ids(u.span for u in failed),
                rate,
            )
        return Finding(False, f"{summary}; fires above {self.max_error_rate:.0%}", value=rate)
