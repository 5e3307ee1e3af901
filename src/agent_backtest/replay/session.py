"""One case's replay: the recordings, the policies, and the candidate's own tool spans.

The active session lives in a ``ContextVar`` so concurrent cases in one event
loop (or threads started with ``contextvars.copy_context``) each see their own
recordings. Tools reach it through ``active_session()``.

With ``update=True`` (``--agent-evals-update``) a call no recording answers
runs the real tool when it is read-only and has no side effects; what it
returned is redacted, kept in ``live_results`` for the case file, and that
redacted value is what the candidate sees, so the run is the one a later
replay of the updated case will reproduce.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson

from agent_backtest.errors import ReplayError
from agent_backtest.evalset.case import ToolRecording
from agent_backtest.replay.matching import (
    Match,
    MatchTier,
    RecordingBook,
    ToolMatchPolicy,
    format_call,
)
from agent_backtest.trace.conventions.construct import build_span, build_status, build_tool_call
from agent_backtest.trace.model import Span, SpanKind, StatusCode

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
    side_effects: bool = False  # evalset.yaml says so: never runs live, whatever the decorator


@dataclass(frozen=True)
class LiveCall:
    """A call the real tool answered, as it would be recorded (already redacted in update mode)."""

    tool: str
    arguments: dict[str, Any]
    result: Any = None
    error: str | None = None
    latency_ms: float = 0.0


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
    update: bool = False  # --agent-evals-update: read-only tools answer what is not recorded
    # Applied to what a live tool returned before anyone sees it (update mode): the
    # candidate then runs on exactly what the updated case will replay.
    redact: Callable[[Any], Any] | None = None
    live_results: list[LiveCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.book = RecordingBook(
            self.recordings,
            policies={name: p.match for name, p in self.policies.items()},
            default_policy=self.default.match,
        )

    def policy(self, tool: str) -> ToolPolicy:
        return self.policies.get(tool, self.default)

    def may_run_live(self, spec: ToolSpec, policy: ToolPolicy) -> bool:
        """Only read-only tools without side effects, and only when asked to."""
        if spec.side_effects or policy.side_effects or not spec.read_only:
            return False
        if policy.unmatched == "live":
            return True
        # HTTP tools are read-only by their method, a guess: only the policy lets them out.
        return self.update and not spec.live_needs_policy

    def answer(self, spec: ToolSpec, arguments: dict[str, Any]) -> ToolCallOutcome:
        """Answer one call from the recordings, or decide how the miss is handled."""
        started = time.time_ns()
        policy = self.policy(spec.name)
        if spec.read_only and not self.book.policy(spec.name).read_only:
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
        if self.may_run_live(spec, policy):
            self.live_calls.append(format_call(spec.name, arguments))
            why = "recorded by --agent-evals-update" if self.update else "unmatched: live"
            reason = f"{match.reason}; the real tool answered ({why})"
            self.book.calls[-1].match = Match(MatchTier.LIVE, None, reason)
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
        elif self.update:
            message += (
                f" (not recorded by --agent-evals-update: {spec.name} is not marked read_only "
                "or has side effects)"
            )
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
    ) -> LiveCall:
        """Record what the real tool did; in update mode the returned call is redacted."""
        elapsed = time.perf_counter_ns() - started_perf_ns
        now = time.time_ns()
        call = LiveCall(spec.name, arguments, result, error, round(elapsed / 1e6, 3))
        if self.redact is not None:
            call = LiveCall(
                spec.name,
                self.redact(jsonable(arguments)),
                None if error is not None else self.redact(jsonable(result)),
                self.redact(error) if error is not None else None,
                call.latency_ms,
            )
        self.live_results.append(call)
        self._record_span(
            spec.name,
            call.arguments,
            now - elapsed,
            call.result,
            call.error,
            None,
            MatchTier.LIVE,
            end=now,
            live=True,
        )
        return call

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
        output = result if error is None else None
        # Built without validation (every value is ours and already plain data):
        # validating three models was most of a replayed call's cost.
        self.spans.append(
            build_span(
                span_id,
                self.parent_span_id,
                SpanKind.TOOL,
                tool,
                start_ns,
                end if end is not None else time.time_ns(),
                build_status(StatusCode.ERROR if error else StatusCode.OK, error),
                orjson.dumps(arguments, default=str).decode(),
                output,
                None,
                build_tool_call(tool, call_id, None, arguments, output, error),
                attributes,
                [],
            )
        )


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: what a recording holds and replay hands back."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


@contextmanager
def replaying(session: ReplaySession) -> Iterator[ReplaySession]:
    """Make ``session`` answer every ``@tool`` call in this context."""
    token = _ACTIVE.set(session)
    try:
        yield session
    finally:
        _ACTIVE.reset(token)
