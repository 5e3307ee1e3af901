"""``context_overflow`` and ``truncation``: the model runs out of room."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, validate_call

from agent_backtest.scoring.detectors.base import (
    LENGTH_FINISHES,
    Detector,
    Finding,
    in_order,
    plural,
    span_ids,
)
from agent_backtest.trace.model import Span, SpanKind, Trace


def stopped_for_length(span: Span) -> bool:
    return span.llm is not None and any(
        reason.lower() in LENGTH_FINISHES for reason in span.llm.finish_reasons
    )


def _prompt_tokens(span: Span) -> int:
    # Only called on spans already filtered to have a prompt-token count.
    return span.llm.usage.input or 0 if span.llm is not None else 0


class ContextOverflow(Detector):
    """Prompt tokens climbing step over step until the model hits its limit.

    Fires when either holds:

    * a run of at least ``min_steps`` consecutive LLM calls whose prompt tokens
      each exceed the previous grows by ``growth_ratio`` or more (last / first),
      and (when ``require_length_finish``, the default) some call from the start
      of that climb on stopped with a ``length`` finish reason;
    * ``context_limit`` is set and a call's prompt used at least
      ``limit_fraction`` of it.

    Parameters (defaults): ``growth_ratio`` 1.5, ``min_steps`` 3,
    ``require_length_finish`` True, ``context_limit`` None (the model's context
    window in tokens), ``limit_fraction`` 0.9.
    """

    id = "context_overflow"
    version = "1"
    failure_mode = "context_overflow"

    @validate_call
    def __init__(
        self,
        *,
        growth_ratio: Annotated[float, Field(gt=1.0)] = 1.5,
        min_steps: Annotated[int, Field(ge=2)] = 3,
        require_length_finish: bool = True,
        context_limit: Annotated[int, Field(ge=1)] | None = None,
        limit_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9,
    ) -> None:
        self.growth_ratio = growth_ratio
        self.min_steps = min_steps
        self.require_length_finish = require_length_finish
        self.context_limit = context_limit
        self.limit_fraction = limit_fraction

    def _climbs(self, calls: list[Span]) -> list[list[Span]]:
        runs: list[list[Span]] = []
        for span in calls:
            if runs and _prompt_tokens(span) > _prompt_tokens(runs[-1][-1]):
                runs[-1].append(span)
            else:
                runs.append([span])
        return runs

    def detect(self, trace: Trace) -> Finding:
        llm_spans = in_order(trace, SpanKind.LLM)
        measured = [s for s in llm_spans if s.llm is not None and s.llm.usage.input is not None]
        if not measured:
            return Finding(False, "no LLM call recorded prompt tokens")
        parts: list[str] = []
        evidence: list[str] = []
        peak = max(_prompt_tokens(s) for s in measured)
        value = float(peak)

        if self.context_limit is not None:
            floor = self.limit_fraction * self.context_limit
            near = [s for s in measured if _prompt_tokens(s) >= floor]
            if near:
                parts.append(
                    f"{plural(len(near), 'LLM call')} used at least "
                    f"{self.limit_fraction:.0%} of the {self.context_limit}-token context "
                    f"(peak {peak} prompt tokens)"
                )
                evidence.extend(span_ids(near))

        best: list[Span] = []
        best_ratio = 0.0
        for run in self._climbs(measured):
            first = max(_prompt_tokens(run[0]), 1)
            ratio = _prompt_tokens(run[-1]) / first
            if len(run) >= self.min_steps and ratio > best_ratio:
                best, best_ratio = run, ratio
        if best and best_ratio >= self.growth_ratio:
            # Only length stops from the climb on count: an early truncated call is
            # a max_tokens problem, not the context filling up.
            start = llm_spans.index(best[0])
            cut = [s for s in llm_spans[start:] if stopped_for_length(s)]
            if cut or not self.require_length_finish:
                reason = (
                    f"prompt tokens climbed {_prompt_tokens(best[0])} → "
                    f"{_prompt_tokens(best[-1])} ({best_ratio:.1f}x) over "
                    f"{len(best)} consecutive LLM calls"
                )
                if cut:
                    reason += f" and {plural(len(cut), 'call')} stopped with finish_reason=length"
                parts.append(reason)
                evidence.extend(span_ids(best) + span_ids(cut))
                value = best_ratio

        if parts:
            return Finding(True, "; ".join(parts), tuple(evidence), value)
        growth = f"{best_ratio:.1f}x" if best else "no climb"
        return Finding(
            False,
            f"largest prompt growth over {self.min_steps}+ calls: {growth} "
            f"(fires at {self.growth_ratio}x with a length stop); peak {peak} prompt tokens",
            value=value,
        )


class Truncation(Detector):
    """The share of LLM calls cut off by ``length`` is over ``max_share`` (default 0.1).

    Evidence: every LLM span that stopped for length. One cut-off call in a long
    run is often harmless; one in two calls is not, hence a share, not a count.
    """

    id = "truncation"
    version = "1"
    failure_mode = "truncation"

    @validate_call
    def __init__(self, *, max_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1) -> None:
        self.max_share = max_share

    def detect(self, trace: Trace) -> Finding:
        calls = [s for s in in_order(trace, SpanKind.LLM) if s.llm is not None]
        if not calls:
            return Finding(False, "no LLM calls", value=0.0)
        cut = [s for s in calls if stopped_for_length(s)]
        share = len(cut) / len(calls)
        summary = (
            f"{len(cut)} of {plural(len(calls), 'LLM call')} ({share:.0%}) stopped with "
            f"finish_reason=length"
        )
        if cut and share > self.max_share:
            return Finding(
                True, f"{summary}, over the {self.max_share:.0%} threshold", span_ids(cut), share
            )
        return Finding(False, f"{summary}; fires above {self.max_share:.0%}", value=share)
