"""Trace -> Case: what the agent was given, what its tools answered, how it failed.

The case is built from the raw trace, then redacted as a whole document (title,
source, annotations, input, recordings, expectations) before it is validated
again, so nothing that reaches a file skipped redaction. Id and fingerprint are
computed from the redacted case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent_backtest.evalset.case import (
    Case,
    CaseAnnotation,
    CaseInput,
    CaseMessage,
    CaseSource,
    Expectations,
    RedactionInfo,
    ToolRecording,
    make_case_id,
)
from agent_backtest.promote.fingerprint import fingerprint
from agent_backtest.promote.modes import LabelMap
from agent_backtest.promote.redact import RedactionReport, Redactor
from agent_backtest.trace.model import Annotation, Message, Span, SpanKind, StatusCode, Trace

# Roles that make up "what the agent was given" at the start of a conversation.
_GIVEN_ROLES = frozenset({"system", "developer", "user"})
# Written by promote itself, never redacted (and computed after redaction).
_NOT_REDACTED = ("schema", "id", "fingerprint", "content_hash", "redaction")


class RejectedError(Exception):
    """The trace cannot become a useful case; ``str(self)`` says why."""


@dataclass(frozen=True)
class BuiltCase:
    case: Case
    redaction: RedactionReport


def _given_messages(trace: Trace) -> list[Message]:
    """Leading system/user messages of the first LLM call that has input messages."""
    llm_spans = sorted(
        (s for s in trace.spans if s.kind is SpanKind.LLM and s.llm and s.llm.input_messages),
        key=lambda s: s.start_ns,
    )
    for span in llm_spans:
        assert span.llm is not None
        given: list[Message] = []
        for message in span.llm.input_messages:
            if message.role not in _GIVEN_ROLES:
                break
            given.append(message)
        if given:
            return given
    return []


def _root_agent(trace: Trace) -> Span | None:
    agents = [s for s in trace.spans if s.kind is SpanKind.AGENT]
    roots = [s for s in agents if s.parent_id is None or trace.span(s.parent_id) is None]
    candidates = roots or agents
    return min(candidates, key=lambda s: s.start_ns) if candidates else None


def _input_from_value(value: Any) -> CaseInput:
    """An AGENT span's input: a string, a message list, ``{"messages": [...]}``, or state."""
    if value is None or value == "" or value == {}:
        return CaseInput()
    if isinstance(value, str):
        return CaseInput(messages=[CaseMessage(role="user", content=value)])
    raw_messages = value.get("messages") if isinstance(value, dict) else value
    if isinstance(raw_messages, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in raw_messages
    ):
        messages = [
            CaseMessage(
                role=m["role"],
                content=m["content"] if isinstance(m.get("content"), str) else None,
                name=m.get("name") if isinstance(m.get("name"), str) else None,
            )
            for m in raw_messages
        ]
        rest = (
            {k: v for k, v in value.items() if k != "messages"} if isinstance(value, dict) else {}
        )
        return CaseInput(messages=messages, state=rest or None)
    if isinstance(value, dict):
        return CaseInput(state=value)
    return CaseInput(state={"input": value})


def case_input(trace: Trace) -> CaseInput:
    given = _given_messages(trace)
    if given:
        return CaseInput(messages=[CaseMessage.from_trace(m) for m in given])
    agent = _root_agent(trace)
    return _input_from_value(agent.input) if agent is not None else CaseInput()


def recordings(trace: Trace) -> list[ToolRecording]:
    """TOOL spans in production order (start time; ties keep the file's order)."""
    tools = sorted((s for s in trace.spans if s.kind is SpanKind.TOOL), key=lambda s: s.start_ns)
    out: list[ToolRecording] = []
    for seq, span in enumerate(tools):
        call = span.tool
        error = call.error if call is not None else None
        if error is None and span.status.code is StatusCode.ERROR:
            error = span.status.message or "error"
        if call is not None:
            arguments = call.arguments if call.arguments is not None else call.arguments_raw
            result = call.result
        else:
            arguments, result = span.input, span.output
        out.append(
            ToolRecording(
                seq=seq,
                tool=call.name if call is not None else span.name,
                call_id=call.call_id if call is not None else None,
                arguments=arguments,
                result=None if error is not None else result,
                error=error,
                latency_ms=round(span.duration_ns / 1e6, 3),
            )
        )
    return out


def _annotation(annotation: Annotation) -> CaseAnnotation:
    target = annotation.target
    return CaseAnnotation(
        name=annotation.name,
        label=annotation.label,
        score=annotation.score,
        explanation=annotation.explanation,
        annotator=annotation.annotator,
        annotator_kind=annotation.annotator_kind,
        classifier=annotation.classifier,
        span_id=target.span_id if target.kind == "span" else None,
    )


def _title(modes: list[str], recorded: list[ToolRecording]) -> str:
    # Built from taxonomy keys and tool names only: an input excerpt could carry
    # personal data into the file name, which no redaction reaches.
    counts = Counter(r.tool for r in recorded)
    if counts:
        tool, times = counts.most_common(1)[0]
        return f"{', '.join(modes)} on {tool}" + (f" x{times}" if times > 1 else "")
    return ", ".join(modes)


def _captured_at(trace: Trace) -> str | None:
    if not trace.start_ns:
        return None
    moment = datetime.fromtimestamp(trace.start_ns // 1_000_000_000, tz=UTC)
    micros = (trace.start_ns % 1_000_000_000) // 1000
    return moment.replace(microsecond=micros).isoformat().replace("+00:00", "Z")


def build_case(
    trace: Trace,
    *,
    label_map: LabelMap,
    redactor: Redactor,
    origin: str | None = None,
    format_name: str | None = None,
) -> BuiltCase:
    """The redacted case for ``trace``; raises ``RejectedError`` with the reason when it cannot be one."""
    modes = label_map.modes_for(trace.annotations)
    if not modes:
        seen = sorted({f"{a.name}={a.label}" if a.label else a.name for a in trace.annotations})
        detail = f"annotations {', '.join(seen)} map to none" if seen else "no annotations"
        raise RejectedError(f"no failure mode ({detail}; add a label mapping, see docs/promote.md)")
    given = case_input(trace)
    recorded = recordings(trace)
    if not recorded and not given.messages and not given.state:
        raise RejectedError("nothing to replay: no TOOL spans and no input")
    draft = Case(
        id="draft",
        title=_title(modes, recorded),
        source=CaseSource(
            trace_id=trace.trace_id,
            session_id=trace.session_id,
            agent=trace.agent_name or trace.agent_id,
            captured_at=_captured_at(trace),
            origin=origin,
            format=format_name,
        ),
        failure_modes=modes,
        annotations=[_annotation(a) for a in trace.annotations],
        input=given,
        recordings=recorded,
        expect=Expectations(not_detected=list(modes)),
    )
    data = draft.to_data()
    kept = {k: data.pop(k) for k in _NOT_REDACTED if k in data}
    redacted, report = redactor.redact(data)
    case = Case.model_validate({**kept, **redacted})
    case.fingerprint = fingerprint(case)
    case.id = make_case_id(case.title, case.fingerprint)
    case.redaction = RedactionInfo(
        policy=redactor.policy_version, replaced=report.total, by_detector=report.as_dict()
    )
    return BuiltCase(case, report)
