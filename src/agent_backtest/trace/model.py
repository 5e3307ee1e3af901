"""The normalized trace model: one shape for every trace format and convention.

Production traces and the candidate's own runs both become ``Trace`` objects, and
the same classifiers score both. The ingestion hot path builds these without
validation (``conventions/construct.py`` fills instances directly; the values
are already normalized, and per-field validation would dominate ingestion
time); ``Trace.model_validate`` is still the strict path for data that
comes from outside, such as our own normalized JSONL.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SpanKind(StrEnum):
    AGENT = "AGENT"
    LLM = "LLM"
    TOOL = "TOOL"
    CHAIN = "CHAIN"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    UNKNOWN = "UNKNOWN"


class StatusCode(StrEnum):
    OK = "ok"
    ERROR = "error"
    UNSET = "unset"


class AnnotatorKind(StrEnum):
    HUMAN = "human"
    LLM = "llm"
    CODE = "code"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class SpanStatus(_Model):
    code: StatusCode = StatusCode.UNSET
    message: str | None = None


class SpanEvent(_Model):
    name: str
    time_ns: int | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class ToolCallRequest(_Model):
    """A tool call the model asked for in its output."""

    id: str | None = None
    name: str
    arguments_raw: str | None = None
    arguments: Any = None


class Message(_Model):
    role: str
    content: str | None = None
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


class TokenUsage(_Model):
    input: int | None = None
    output: int | None = None
    total: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None


class LLMCall(_Model):
    """What an LLM span says about the call it records."""

    provider: str | None = None
    model: str | None = None
    input_messages: list[Message] = Field(default_factory=list)
    output_messages: list[Message] = Field(default_factory=list)
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost: float | None = None
    finish_reasons: list[str] = Field(default_factory=list)
    invocation_parameters: dict[str, Any] = Field(default_factory=dict)


class ToolCall(_Model):
    """What a TOOL span says about the tool execution it records."""

    name: str
    call_id: str | None = None
    arguments_raw: str | None = None
    arguments: Any = None
    result: Any = None
    error: str | None = None


class Span(_Model):
    span_id: str
    parent_id: str | None = None
    kind: SpanKind = SpanKind.UNKNOWN
    name: str
    start_ns: int
    end_ns: int
    status: SpanStatus = Field(default_factory=SpanStatus)
    input: Any = None
    output: Any = None
    llm: LLMCall | None = None
    tool: ToolCall | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    events: list[SpanEvent] = Field(default_factory=list)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def is_error(self) -> bool:
        return self.status.code is StatusCode.ERROR or (
            self.tool is not None and self.tool.error is not None
        )


class AnnotationTarget(_Model):
    """What an annotation is about: a whole trace, one span, a session, or one message step."""

    kind: str = "trace"  # trace | span | session | step
    trace_id: str | None = None
    span_id: str | None = None
    session_id: str | None = None
    step: int | None = None


class Annotation(_Model):
    target: AnnotationTarget
    name: str
    label: str | None = None
    score: float | None = None
    explanation: str | None = None
    annotator_kind: AnnotatorKind = AnnotatorKind.HUMAN
    annotator: str | None = None
    classifier: str | None = None  # "id@version" when a classifier produced it
    source: str | None = None
    created_at: str | None = None


class TraceMetrics(_Model):
    """Numbers derived from the spans; recomputed, never stored."""

    llm_calls: int = 0
    tool_calls: int = 0
    tool_calls_by_name: dict[str, int] = Field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    duration_ns: int = 0
    error_spans: int = 0
    finish_reasons: dict[str, int] = Field(default_factory=dict)
    prompt_tokens_per_step: list[int] = Field(default_factory=list)


class Trace(_Model):
    trace_id: str
    session_id: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    start_ns: int = 0
    end_ns: int = 0
    status: SpanStatus = Field(default_factory=SpanStatus)
    spans: list[Span] = Field(default_factory=list)
    annotations: list[Annotation] = Field(default_factory=list)

    # ``cached_property`` values live in the instance ``__dict__``; pydantic
    # ignores them for dumping, so derived data never leaks into a file.
    model_config = ConfigDict(extra="forbid", ignored_types=(cached_property,))

    @cached_property
    def _children(self) -> dict[str | None, list[Span]]:
        index: dict[str | None, list[Span]] = {}
        for span in self.spans:
            index.setdefault(span.parent_id, []).append(span)
        return index

    @property
    def roots(self) -> list[Span]:
        return self._children.get(None, [])

    def children(self, span: Span) -> list[Span]:
        return self._children.get(span.span_id, [])

    def span(self, span_id: str) -> Span | None:
        return next((s for s in self.spans if s.span_id == span_id), None)

    def walk(self) -> list[tuple[int, Span]]:
        """Depth-first (depth, span) pairs in start order: the order a trace viewer shows."""
        out: list[tuple[int, Span]] = []
        stack = [(0, s) for s in reversed(self.roots)]
        while stack:
            depth, span = stack.pop()
            out.append((depth, span))
            stack.extend((depth + 1, c) for c in reversed(self.children(span)))
        return out

    def spans_of_kind(self, kind: SpanKind) -> list[Span]:
        return [s for s in self.spans if s.kind is kind]

    def invalidate(self) -> None:
        """Forget derived data after the span list was changed in place."""
        self.__dict__.pop("_children", None)

    @property
    def metrics(self) -> TraceMetrics:
        return compute_metrics(self)


def compute_metrics(trace: Trace) -> TraceMetrics:
    tool_counter: Counter[str] = Counter()
    finish: Counter[str] = Counter()
    input_tokens = output_tokens = total_tokens = 0
    cost: float | None = None
    llm_calls = errors = 0
    prompt_steps: list[int] = []
    for span in trace.spans:
        if span.is_error:
            errors += 1
        if span.kind is SpanKind.TOOL:
            tool_counter[span.tool.name if span.tool else span.name] += 1
        llm = span.llm
        if span.kind is SpanKind.LLM and llm is not None:
            llm_calls += 1
            usage = llm.usage
            input_tokens += usage.input or 0
            output_tokens += usage.output or 0
            total_tokens += usage.total or ((usage.input or 0) + (usage.output or 0))
            if usage.input is not None:
                prompt_steps.append(usage.input)
            if llm.cost is not None:
                cost = (cost or 0.0) + llm.cost
            finish.update(llm.finish_reasons)
    return TraceMetrics(
        llm_calls=llm_calls,
        tool_calls=sum(tool_counter.values()),
        tool_calls_by_name=dict(sorted(tool_counter.items())),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total_tokens,
        cost=cost,
        duration_ns=max(0, trace.end_ns - trace.start_ns),
        error_spans=errors,
        finish_reasons=dict(sorted(finish.items())),
        prompt_tokens_per_step=prompt_steps,
    )
