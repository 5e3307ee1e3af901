"""``@agent_backtest.tool``: a transparent pass-through in production, a recording in replay.

In production the decorated function runs as written; when OpenTelemetry is
installed and configured it also emits an OpenInference TOOL span, so the
traces production captures carry exactly what ``backtest promote`` needs.
While a replay session is active (a context variable, so concurrent cases in
one process never see each other's recordings) the call is answered from the
case's recordings and the real function never runs, unless the tool is
read-only, has no side effects, and the policy says ``live`` (or
``--agent-evals-update`` is recording the calls production never made).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, overload

import orjson

from agent_backtest.replay.session import (
    LiveCall,
    ReplaySession,
    ToolCallOutcome,
    active_session,
)

P = ParamSpec("P")
R = TypeVar("R")


class ToolError(Exception):
    """A tool failed; during replay, a recorded production error or a missing recording.

    Agent loops that turn tool exceptions into tool messages (as the OpenAI
    Agents SDK does) keep running, so the candidate is still scored.
    """


@dataclass(frozen=True)
class ToolSpec:
    name: str
    side_effects: bool = False
    read_only: bool = False
    schema: dict[str, Any] | None = None  # JSON Schema of the arguments, for detectors
    # read_only was inferred (an HTTP GET), not declared: only `unmatched: live` lets it run.
    live_needs_policy: bool = False


_REGISTRY: dict[str, ToolSpec] = {}


def registered_tools() -> dict[str, ToolSpec]:
    """Every tool decorated so far, by name (detectors read schemas from here)."""
    return dict(_REGISTRY)


def _bind(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {"args": list(args), **kwargs}
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}


Binder = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]


def _binder(signature: inspect.Signature) -> Binder:
    """``_bind`` for this signature; plain parameters skip ``Signature.bind`` (~10 us a call).

    The fast path gives the same mapping (signature order, defaults applied); anything
    it does not handle (``*args``, ``**kwargs``, a bad call) goes the general way.
    """
    params = list(signature.parameters.values())
    plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if not all(p.kind in plain for p in params):
        return lambda args, kwargs: _bind(signature, args, kwargs)
    positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    names = [p.name for p in params if p.name not in ("self", "cls")]
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    known = set(positional) | {p.name for p in params}

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        given = dict(zip(positional, args, strict=False))
        if len(args) > len(positional) or any(k in given or k not in known for k in kwargs):
            return _bind(signature, args, kwargs)
        given.update(kwargs)
        out: dict[str, Any] = {}
        for name in names:
            if name in given:
                out[name] = given[name]
            elif name in defaults:
                out[name] = defaults[name]
            else:  # missing argument: the call fails either way; keep the general shape
                return _bind(signature, args, kwargs)
        return out

    return bind


def _emit_span(spec: ToolSpec, arguments: dict[str, Any]) -> Any:
    """An OpenInference TOOL span when OpenTelemetry is there; otherwise nothing."""
    try:
        from opentelemetry import trace as otel_trace
    except ImportError:
        return None
    tracer = otel_trace.get_tracer("agent_backtest")
    return tracer.start_as_current_span(
        spec.name,
        attributes={
            "openinference.span.kind": "TOOL",
            "tool.name": spec.name,
            "input.value": orjson.dumps(arguments, default=str).decode(),
            "input.mime_type": "application/json",
        },
    )


def _record_output(span: Any, result: Any) -> None:
    text = result if isinstance(result, str) else orjson.dumps(result, default=str).decode()
    span.set_attribute("output.value", text)


def _answer(outcome: ToolCallOutcome) -> Any:
    if outcome.error is not None:
        raise ToolError(outcome.error)
    return outcome.result


def _live_failed(session: ReplaySession, call: LiveCall, exc: Exception) -> None:
    if session.update:
        # What replay of the updated case will raise: the recorded (redacted) error.
        raise ToolError(call.error) from exc


@overload
def tool(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def tool(
    *,
    name: str | None = None,
    side_effects: bool = False,
    read_only: bool = False,
    schema: dict[str, Any] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def tool(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    side_effects: bool = False,
    read_only: bool = False,
    schema: dict[str, Any] | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a function as an agent tool. ``side_effects=True`` tools never run in replay."""
    if side_effects and read_only:
        raise ValueError("a tool cannot be both read_only and side_effects")

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        spec = ToolSpec(name or fn.__name__, side_effects, read_only, schema)
        _REGISTRY[spec.name] = spec
        bind = _binder(inspect.signature(fn))

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                arguments = bind(args, kwargs)
                session = active_session()
                if session is None:
                    span = _emit_span(spec, arguments)
                    if span is None:
                        return await fn(*args, **kwargs)
                    with span as current:  # records exceptions and error status itself
                        result = await fn(*args, **kwargs)
                        _record_output(current, result)
                        return result
                started = time.perf_counter_ns()
                outcome = session.answer(spec, arguments)
                if outcome.run_live:
                    try:
                        result = await fn(*args, **kwargs)
                    except Exception as exc:
                        failed = session.finish_live(
                            spec, arguments, started, error=str(exc) or type(exc).__name__
                        )
                        _live_failed(session, failed, exc)
                        raise
                    call = session.finish_live(spec, arguments, started, result=result)
                    return call.result if session.update else result
                return _answer(outcome)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            arguments = bind(args, kwargs)
            session = active_session()
            if session is None:
                span = _emit_span(spec, arguments)
                if span is None:
                    return fn(*args, **kwargs)
                with span as current:  # records exceptions and error status itself
                    result = fn(*args, **kwargs)
                    _record_output(current, result)
                    return result
            started = time.perf_counter_ns()
            outcome = session.answer(spec, arguments)
            if outcome.run_live:
                try:
                    result = fn(*args, **kwargs)
                except Exception as exc:
                    failed = session.finish_live(
                        spec, arguments, started, error=str(exc) or type(exc).__name__
                    )
                    _live_failed(session, failed, exc)
                    raise
                call = session.finish_live(spec, arguments, started, result=result)
                return call.result if session.update else result
            answer: R = _answer(outcome)
            return answer

        return wrapper

    if func is not None:
        return decorate(func)
    return decorate
