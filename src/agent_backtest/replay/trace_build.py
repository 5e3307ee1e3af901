"""The candidate's run as a normalized ``Trace``: an AGENT root over its LLM and TOOL spans.

The session already recorded each intercepted LLM exchange and tool call as a
``Span`` parented to ``ROOT_SPAN_ID``; this adds the root, so the candidate's
trace has the same shape as a production trace and the same classifiers score
it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from agent_backtest.replay.session import ReplaySession
from agent_backtest.trace.model import Span, SpanKind, SpanStatus, StatusCode, Trace

# Session spans are numbered 1, 2, ... in hex; the root takes an id they never reach.
ROOT_SPAN_ID = "8000000000000000"


def candidate_trace_id(evalset: str, case_id: str, attempt: int) -> str:
    """Deterministic, so the same case and attempt always has the same trace id."""
    material = f"{evalset}\x00{case_id}\x00{attempt}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()


def build_trace(
    session: ReplaySession,
    *,
    trace_id: str,
    agent_name: str,
    case_input: Any,
    output: Any,
    error: str | None,
    start_ns: int,
    end_ns: int,
    session_id: str | None = None,
) -> Trace:
    status = SpanStatus(
        code=StatusCode.ERROR if error else StatusCode.OK,
        message=error,
    )
    root = Span(
        span_id=ROOT_SPAN_ID,
        parent_id=None,
        kind=SpanKind.AGENT,
        name=agent_name,
        start_ns=start_ns,
        end_ns=end_ns,
        status=status,
        input=_json_text(case_input),
        output=None if output is None else _json_text(output),
        attributes={"openinference.span.kind": "AGENT", "agent.name": agent_name},
    )
    children = sorted(session.spans, key=lambda s: (s.start_ns, s.span_id))
    for span in children:
        if span.parent_id is None:
            span.parent_id = ROOT_SPAN_ID
    return Trace(
        trace_id=trace_id,
        session_id=session_id,
        agent_name=agent_name,
        start_ns=start_ns,
        end_ns=end_ns,
        status=status,
        spans=[root, *children],
    )
