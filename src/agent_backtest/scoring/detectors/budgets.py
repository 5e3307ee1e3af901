"""``cost_blowup`` and ``latency_budget``: the run cost more than it may."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, validate_call

from agent_backtest.scoring.detectors.base import Detector, Finding, in_order, span_ids
from agent_backtest.trace.model import Span, SpanKind, Trace


def _spend(span: Span) -> tuple[float, int]:
    """(cost, tokens) of one LLM span, for ranking the costliest calls."""
    if span.llm is None:
        return (0.0, 0)
    usage = span.llm.usage
    return (span.llm.cost or 0.0, usage.total or (usage.input or 0) + (usage.output or 0))


class CostBlowup(Detector):
    """The run's LLM cost or token total is over budget.

    Parameters (defaults): ``max_cost`` 1.0 (USD, summed over LLM spans that
    record a cost), ``max_total_tokens`` 200000 (input + output over all LLM
    calls). Set either to ``None`` to disable it; not both. A run whose spans
    record no cost is judged on tokens only, and the reason says so.
    Evidence: the ``max_evidence`` (default 5) costliest LLM spans, the ones to
    look at first.
    """

    id = "cost_blowup"
    version = "1"
    failure_mode = "cost_blowup"

    @validate_call
    def __init__(
        self,
        *,
        max_cost: Annotated[float, Field(gt=0.0)] | None = 1.0,
        max_total_tokens: Annotated[int, Field(ge=1)] | None = 200_000,
        max_evidence: Annotated[int, Field(ge=1)] = 5,
    ) -> None:
        if max_cost is None and max_total_tokens is None:
            raise ValueError("cost_blowup needs max_cost or max_total_tokens")
        self.max_cost = max_cost
        self.max_total_tokens = max_total_tokens
        self.max_evidence = max_evidence

    def detect(self, trace: Trace) -> Finding:
        metrics = trace.metrics
        parts: list[str] = []
        notes: list[str] = []
        if self.max_cost is not None:
            if metrics.cost is None:
                notes.append("no cost recorded")
            elif metrics.cost > self.max_cost:
                parts.append(f"cost ${metrics.cost:.2f} over the ${self.max_cost:.2f} budget")
            else:
                notes.append(f"cost ${metrics.cost:.2f} within ${self.max_cost:.2f}")
        if self.max_total_tokens is not None:
            tokens = metrics.total_tokens
            if tokens > self.max_total_tokens:
                parts.append(f"{tokens:,} tokens over the {self.max_total_tokens:,}-token budget")
            else:
                notes.append(f"{tokens:,} tokens within {self.max_total_tokens:,}")
        value = metrics.cost if metrics.cost is not None else float(metrics.total_tokens)
        if not parts:
            return Finding(False, "; ".join(notes), value=value)
        costliest = sorted(in_order(trace, SpanKind.LLM), key=_spend, reverse=True)
        return Finding(True, "; ".join(parts), span_ids(costliest[: self.max_evidence]), value)


class LatencyBudget(Detector):
    """The run took longer than ``max_duration_s`` (default 120 seconds).

    Duration is the trace's own start-to-end time, or the extent of its spans
    when the trace has none. Evidence: the root span(s) and the ``max_evidence``
    (default 3) slowest other spans, where the time went.
    """

    id = "latency_budget"
    version = "1"
    failure_mode = "latency_budget"

    @validate_call
    def __init__(
        self,
        *,
        max_duration_s: Annotated[float, Field(gt=0.0)] = 120.0,
        max_evidence: Annotated[int, Field(ge=0)] = 3,
    ) -> None:
        self.max_duration_s = max_duration_s
        self.max_evidence = max_evidence

    def detect(self, trace: Trace) -> Finding:
        duration_ns = trace.end_ns - trace.start_ns
        if duration_ns <= 0 and trace.spans:
            duration_ns = max(s.end_ns for s in trace.spans) - min(s.start_ns for s in trace.spans)
        seconds = max(0, duration_ns) / 1e9
        if seconds <= self.max_duration_s:
            return Finding(
                False,
                f"took {seconds:.1f}s, within the {self.max_duration_s:g}s budget",
                value=seconds,
            )
        roots = trace.roots
        others = sorted(
            (s for s in trace.spans if s.parent_id is not None),
            key=lambda s: s.duration_ns,
            reverse=True,
        )[: self.max_evidence]
        slowest = ", ".join(f"{s.name} {s.duration_ns / 1e9:.1f}s" for s in others)
        reason = f"took {seconds:.1f}s, over the {self.max_duration_s:g}s budget"
        if slowest:
            reason += f" (slowest: {slowest})"
        return Finding(True, reason, span_ids(roots) + span_ids(others), seconds)
