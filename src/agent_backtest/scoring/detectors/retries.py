"""``cascading_retries``: one failing step retried at several layers at once.

A retry is a repeat of the same operation (same span kind and tool name / model /
span name) under the same parent right after an attempt that failed. Retries
are healthy at one layer; when an outer layer (the agent re-planning, a
workflow step) retries an operation whose inner layer (an SDK, an HTTP
client) is also retrying, the attempts multiply: 3 x 3 = 9 calls against a
service that is down, and the run's latency and cost with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, validate_call

from agent_backtest.scoring.detectors.base import (
    Detector,
    Finding,
    in_order,
    span_ids,
    tool_error,
    tool_uses,
)
from agent_backtest.trace.model import Span, SpanKind, Trace


def operation(span: Span) -> tuple[str, str]:
    if span.tool is not None:
        return (SpanKind.TOOL.value, span.tool.name)
    if span.llm is not None and span.llm.model:
        return (span.kind.value, span.llm.model)
    return (span.kind.value, span.name)


@dataclass
class _Group:
    """Consecutive attempts of one operation under one parent, each after a failure."""

    attempts: list[Span]

    @property
    def name(self) -> str:
        return operation(self.attempts[0])[1]


class CascadingRetries(Detector):
    """Nested retries of one failing step, or a long streak of identical failures.

    Fires when either holds:

    * **nested**: a retry group (2+ attempts of one operation under one parent,
      each after a failed attempt) has another retry group inside one of its
      attempts;
    * **streak**: ``min_consecutive_errors`` (default 3) or more consecutive
      calls of the same tool, or LLM calls to the same model, all failed.

    An attempt failed if its span is an error (status, tool error, or an error
    payload from a tool) or, for a wrapper span, if its last child failed.
    Evidence: every attempt span in the cascade, outer and inner.
    """

    id = "cascading_retries"
    version = "1"
    failure_mode = "cascading_retries"

    @validate_call
    def __init__(self, *, min_consecutive_errors: Annotated[int, Field(ge=2)] = 3) -> None:
        self.min_consecutive_errors = min_consecutive_errors

    def detect(self, trace: Trace) -> Finding:
        failed = _failures(trace)
        groups = _retry_groups(trace, failed)
        parts: list[str] = []
        evidence: list[str] = []
        worst = 0
        covered: set[str] = set()

        for outer in groups:
            if outer.attempts[0].span_id in covered:
                continue  # already reported inside an outer cascade
            inside = {s.span_id for a in outer.attempts for s in _descendants(trace, a)}
            inner = [g for g in groups if g.attempts[0].span_id in inside]
            if not inner:
                continue
            cascade = outer.attempts + [s for g in inner for s in g.attempts]
            errors = sum(1 for s in cascade if s.span_id in failed)
            names = sorted({g.name for g in inner})
            parts.append(
                f"{', '.join(names)} retried at two layers: {len(outer.attempts)} attempts of "
                f"{outer.name}, with {sum(len(g.attempts) for g in inner)} retried attempts "
                f"inside them ({errors} of {len(cascade)} spans failed)"
            )
            evidence.extend(span_ids(cascade))
            covered.update(span_ids(cascade))
            worst = max(worst, len(cascade))

        for streak in _streaks(trace, failed):
            if len(streak) < self.min_consecutive_errors:
                continue
            if all(s.span_id in covered for s in streak):
                continue
            parts.append(f"{operation(streak[0])[1]} failed {len(streak)} times in a row")
            evidence.extend(span_ids(streak))
            worst = max(worst, len(streak))

        if parts:
            return Finding(True, "; ".join(parts), tuple(evidence), float(worst))
        longest = max((len(s) for s in _streaks(trace, failed)), default=0)
        return Finding(
            False,
            f"no nested retries; longest streak of identical failures: {longest} "
            f"(fires at {self.min_consecutive_errors})",
            value=float(longest),
        )


def _failures(trace: Trace) -> set[str]:
    failed: set[str] = set()
    for span in reversed(in_order(trace)):  # children start after parents: decide them first
        children = sorted(trace.children(span), key=lambda s: s.start_ns)
        if (
            span.is_error
            or tool_error(span) is not None
            or (children and children[-1].span_id in failed)
        ):
            failed.add(span.span_id)
    return failed


def _retry_groups(trace: Trace, failed: set[str]) -> list[_Group]:
    groups: list[_Group] = []
    for siblings in [trace.roots, *(trace.children(s) for s in trace.spans)]:
        # Only siblings of the same kind can be attempts of each other: an agent's
        # LLM calls sit between its tool calls and do not break a tool retry.
        by_kind: dict[SpanKind, list[Span]] = {}
        for span in sorted(siblings, key=lambda s: s.start_ns):
            by_kind.setdefault(span.kind, []).append(span)
        for same_kind in by_kind.values():
            run: list[Span] = []
            for span in same_kind:
                if run and operation(span) == operation(run[-1]) and run[-1].span_id in failed:
                    run.append(span)
                    continue
                if len(run) >= 2:
                    groups.append(_Group(run))
                run = [span]
            if len(run) >= 2:
                groups.append(_Group(run))
    return sorted(groups, key=lambda g: g.attempts[0].start_ns)


def _descendants(trace: Trace, span: Span) -> list[Span]:
    out: list[Span] = []
    stack = list(trace.children(span))
    while stack:
        child = stack.pop()
        out.append(child)
        stack.extend(trace.children(child))
    return out


def _streaks(trace: Trace, failed: set[str]) -> list[list[Span]]:
    """Runs of consecutive failed calls of one tool (or one model), in call order."""
    streaks: list[list[Span]] = []
    for calls in (
        [u.span for u in tool_uses(trace) if u.span.kind is SpanKind.TOOL],
        in_order(trace, SpanKind.LLM),
    ):
        run: list[Span] = []
        for span in calls:
            if span.span_id in failed and run and operation(span) == operation(run[-1]):
                run.append(span)
                continue
            if run:
                streaks.append(run)
            run = [span] if span.span_id in failed else []
        if run:
            streaks.append(run)
    return streaks
