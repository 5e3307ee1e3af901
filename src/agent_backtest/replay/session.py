"""One case's replay: the recordings, the policies, and the candidate's own tool spans.

The active session lives in a ``ContextVar`` so concurrent cases in one event
loop (or threads started with ``contextvars.copy_context``) each see their own
recordings. Tools reach it through ``active_session()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson

from agent_backtest.errors import ReplayError
from agent_backtest.evalset.case import ToolRecording
from agent_backtest.replay.matching import (
    MatchTier,
    RecordingBook,
    ToolMatchPolicy,
    format_call,
)
from agent_backtest.trace.model import Span, SpanKind, SpanStatus, StatusCode, ToolCall

if TYPE_CHECKING:
    from agent_backtest.replay.http_intercept import LLMReplay
    from agent_backtest.replay.tools import ToolSpec

Unmatched = Literal["tool_error", "error", "live"]

_ACTIVE: ContextVar[ReplaySession | None] = ContextVar("agent_backtest_replay", default=None)


def active_session() -> ReplaySession | None:
    return _ACTIVE.get()


@dataclass(frozen=True)
class ToolPolicy:
    """Everything replay needs to decide about one tool."""

    match: ToolMatchPolicy = field(default_factory=ToolMatchPolicy)
    unmatched: Unmatched = "tool_error"


@dataclass(frozen=True)
class ToolCallOutcome:
    result: Any = None
    error: str | None = None
    run_live: bool = False


class ReplayCaseError(ReplayError):
    """Replay could not continue under the policy (``unmatched: error``)."""


@dataclass
class ReplaySession:
    recordings: Sequence[ToolRecording]
    policies: dict[str, ToolPolicy] = field(default_factory=dict)
    default: ToolPolicy = field(default_factory=ToolPolicy)
    trace_id: str = "0" * 32
    parent_span_id: str | None = None
    spans: list[Span] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # policy violations that fail the case
    live_calls: list[str] = field(default_factory=list)
    llm: LLMReplay | None = None  # LLM record/replay; None: LLM calls are not intercepted

    def __post_init__(self) -> None:
        self.book = RecordingBook(
            self.recordings,
            policies={name: p.match for name, p in self.policies.items()},
            default_policy=self.default.match,
        )

    def policy(self, tool: str) -> ToolPolicy:
        return self.policies.get(tool, self.default)

    def answer(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolCallOutcome:
        """Answer one call from the recordings, or decide how the miss is handled."""
        started = time.time_ns()
        policy = self.policy(spec.name)
        if spec.read_only and not policy.match.read_only:
            # The decorator's read_only flag is as good as the evalset saying so.
            self.book.policies[spec.name] = ToolMatchPolicy(
                matcher=policy.match.matcher,
                ignore_keys=policy.match.ignore_keys,
                positional_fallback=policy.match.positional_fallback,
                read_only=True,
            )
        match = self.book.match(spec.name, arguments)
        if match.recording is not None:
            rec = match.recording
            self._record_span(
                spec.name, arguments, started, rec.result, rec.error, rec.call_id, match.tier
            )
            return ToolCallOutcome(result=rec.result, error=rec.error)
        message = f"no recorded response for {format_call(spec.name, arguments)}: {match.reason}"
        may_run_live = policy.unmatched == "live" and spec.read_only and not spec.side_effects
        if may_run_live:
            self.live_calls.append(format_call(spec.name, arguments))
            return ToolCallOutcome(run_live=True)
        if policy.unmatched == "error":
            self.errors.append(message)
            self._record_span(
                spec.name, arguments, started, None, message, None, MatchTier.UNMATCHED
            )
            raise ReplayCaseError(
                message, fix="record it (--agent-evals-update) or relax the tool's replay policy"
            )
        if policy.unmatched == "live":
            # Asked for live, but the tool is not known to be safe: never run it.
            message += f" (not run live: {spec.name} is not marked read_only or has side effects)"
        self._record_span(spec.name, arguments, started, None, message, None, MatchTier.UNMATCHED)
        return ToolCallOutcome(error=message)

    def finish_live(
        self,
        spec: ToolSpec,
        arguments: dict[str, Any],
        started_perf_ns: int,
        *,
        result: Any = None,
        error: str | None = None,
    ) -> None:
        elapsed = time.perf_counter_ns() - started_perf_ns
        now = time.time_ns()
        self._record_span(
            spec.name, arguments, now - elapsed, result, error, None, None, end=now, live=True
        )

    def _record_span(
        self,
        tool: str,
        arguments: dict[str, Any],
        start_ns: int,
        result: Any,
        error: str | None,
        call_id: str | None,
        tier: MatchTier | None,
        *,
        end: int | None = None,
        live: bool = False,
    ) -> None:
        span_id = f"{len(self.spans) + 1:016x}"
        attributes: dict[str, Any] = {"openinference.span.kind": "TOOL", "tool.name": tool}
        if tier is not None:
            attributes["agent_backtest.replay.tier"] = tier.value
        if live:
            attributes["agent_backtest.replay.live"] = True
        self.spans.append(
            Span(
                span_id=span_id,
                parent_id=self.parent_span_id,
                kind=SpanKind.TOOL,
                name=tool,
                start_ns=start_ns,
                end_ns=end if end is not None else time.time_ns(),
                status=SpanStatus(code=StatusCode.ERROR if error else StatusCode.OK, message=error),
                input=orjson.dumps(arguments, default=str).decode(),
                output=result if error is None else None,
                tool=ToolCall(
                    name=tool,
                    call_id=call_id,
                    arguments=arguments,
                    result=result if error is None else None,
                    error=error,
                ),
                attributes=attributes,
            )
        )


@contextmanager
def replaying(session: ReplaySession) -> Iterator[ReplaySession]:
    """Make ``session`` answer every ``@tool`` call in this context."""
    token = _ACTIVE.set(session)
    try:
        yield session
    finally:
        _ACTIVE.reset(token)
