"""``step_repetition``: the agent does the same thing again and again (MAST FM-1.3)."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Annotated

from pydantic import Field, validate_call

from agent_backtest.scoring.detectors.base import (
    Detector,
    Finding,
    ToolUse,
    canonical,
    in_order,
    short,
    span_ids,
    tool_uses,
)
from agent_backtest.trace.model import SpanKind, Trace


class StepRepetition(Detector):
    """Near-identical consecutive tool calls, and (optionally) LLM calls over a budget.

    Parameters:
        min_repeats: how many consecutive calls of one tool with the same arguments
            count as a loop (default 3; two identical calls are often a legitimate
            re-check).
        similarity: 1.0 (default) compares arguments exactly after normalizing key
            order, case and whitespace; below 1.0 a difflib ratio of the canonical
            JSON at least this high also counts. Keep it at 1.0 unless ids in the
            arguments are long: ``{"order_id": 1843}`` and ``{"order_id": 1844}``
            are 0.94 similar and are different orders.
        max_llm_calls: flag a run with more LLM calls than this (default: no budget).
    """

    id = "step_repetition"
    version = "1"
    failure_mode = "step_repetition"

    @validate_call
    def __init__(
        self,
        *,
        min_repeats: Annotated[int, Field(ge=2)] = 3,
        similarity: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0,
        max_llm_calls: Annotated[int, Field(ge=1)] | None = None,
    ) -> None:
        self.min_repeats = min_repeats
        self.similarity = similarity
        self.max_llm_calls = max_llm_calls

    def _same(self, first: ToolUse, other: ToolUse) -> bool:
        if first.name != other.name:
            return False
        a, b = canonical(first.arguments), canonical(other.arguments)
        return a == b or (
            self.similarity < 1.0 and SequenceMatcher(None, a, b).ratio() >= self.similarity
        )

    def _runs(self, uses: list[ToolUse]) -> list[list[ToolUse]]:
        runs: list[list[ToolUse]] = []
        for use in uses:
            # Compare with the run's first call, not the previous one, so that
            # near-equality cannot drift step by step into unrelated arguments.
            if runs and self._same(runs[-1][0], use):
                runs[-1].append(use)
            else:
                runs.append([use])
        return runs

    def detect(self, trace: Trace) -> Finding:
        runs = self._runs(tool_uses(trace))
        longest = max((len(r) for r in runs), default=0)
        parts: list[str] = []
        evidence: list[str] = []
        for run in runs:
            if len(run) < self.min_repeats:
                continue
            exact = len({canonical(u.arguments) for u in run}) == 1
            kind = "identical" if exact else "near-identical"
            parts.append(
                f"{run[0].name} called {len(run)} times in a row with {kind} arguments "
                f"{short(run[0].arguments)}"
            )
            evidence.extend(span_ids(u.span for u in run))
        llm_spans = in_order(trace, SpanKind.LLM)
        budget = self.max_llm_calls
        if budget is not None and len(llm_spans) > budget:
            parts.append(f"{len(llm_spans)} LLM calls, over the budget of {budget}")
            # The calls past the budget are the ones that should not have happened.
            evidence.extend(span_ids(llm_spans[budget:]))
        if parts:
            return Finding(True, "; ".join(parts), tuple(evidence), float(longest))
        reason = f"longest run of repeated tool calls: {longest} (fires at {self.min_repeats})"
        if budget is not None:
            reason += f"; {len(llm_spans)} LLM calls within the budget of {budget}"
        return Finding(False, reason, value=float(longest))
