"""A small builder for agent traces, so each detector test reads like the run it describes.

Spans get increasing timestamps in the order they are added (10 ns apart by
default). Every LLM call sees the conversation so far as its input messages:
the system prompt, the user's question and each earlier tool result, as a real
agent loop would send them. Wrapper spans (``chain``) stretch to cover their
children when the trace is built.
"""

from __future__ import annotations

import json
from typing import Any

from agent_backtest.trace.model import (
    LLMCall,
    Message,
    Span,
    SpanKind,
    SpanStatus,
    StatusCode,
    TokenUsage,
    ToolCall,
    ToolCallRequest,
    Trace,
)


class TraceBuilder:
    def __init__(self, question: str = "Where is my order?", trace_id: str = "t1") -> None:
        self.trace_id = trace_id
        self.clock = 0
        self.counter = 0
        self.spans: list[Span] = [
            Span(
                span_id="root",
                kind=SpanKind.AGENT,
                name="agent",
                start_ns=0,
                end_ns=0,
                input=question,
            )
        ]
        self.conversation = [
            Message(role="system", content="You are a support agent."),
            Message(role="user", content=question),
        ]

    def _id(self, prefix: str, span_id: str | None) -> str:
        self.counter += 1
        return span_id or f"{prefix}{self.counter}"

    def _times(self, duration: int) -> tuple[int, int]:
        self.clock += 10
        start = self.clock
        self.clock += duration
        return start, self.clock

    def llm(
        self,
        content: str | None = None,
        *,
        span_id: str | None = None,
        parent: str = "root",
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        finish: str = "stop",
        calls: tuple[tuple[str, dict[str, Any]], ...] = (),
        model: str = "gpt-4o",
        cost: float | None = None,
        error: bool = False,
        tools: list[dict[str, Any]] | None = None,
        duration: int = 10,
    ) -> str:
        span_id = self._id("llm", span_id)
        start, end = self._times(duration)
        requests = [
            ToolCallRequest(id=f"call{i}", name=name, arguments=args)
            for i, (name, args) in enumerate(calls)
        ]
        outputs = [Message(role="assistant", content=content, tool_calls=requests)]
        self.spans.append(
            Span(
                span_id=span_id,
                parent_id=parent,
                kind=SpanKind.LLM,
                name="chat",
                start_ns=start,
                end_ns=end,
                status=SpanStatus(code=StatusCode.ERROR if error else StatusCode.OK),
                llm=LLMCall(
                    model=model,
                    input_messages=list(self.conversation),
                    output_messages=outputs,
                    tool_calls=requests,
                    usage=TokenUsage(input=input_tokens, output=output_tokens),
                    cost=cost,
                    finish_reasons=[finish],
                    invocation_parameters={"tools": tools} if tools else {},
                ),
            )
        )
        self.conversation.append(outputs[0])
        return span_id

    def tool(
        self,
        name: str,
        arguments: Any,
        result: Any = None,
        *,
        span_id: str | None = None,
        parent: str = "root",
        error: str | None = None,
        status_error: bool = False,
        duration: int = 10,
    ) -> str:
        span_id = self._id("tool", span_id)
        start, end = self._times(duration)
        self.spans.append(
            Span(
                span_id=span_id,
                parent_id=parent,
                kind=SpanKind.TOOL,
                name=name,
                start_ns=start,
                end_ns=end,
                status=SpanStatus(code=StatusCode.ERROR if status_error else StatusCode.OK),
                tool=ToolCall(name=name, arguments=arguments, result=result, error=error),
            )
        )
        shown = error if error is not None else result
        self.conversation.append(
            Message(role="tool", content=shown if isinstance(shown, str) else json.dumps(shown))
        )
        return span_id

    def chain(
        self, name: str, *, span_id: str | None = None, parent: str = "root", error: bool = False
    ) -> str:
        """A wrapper span (a workflow step, an SDK call); children added later nest in it."""
        span_id = self._id("chain", span_id)
        start, _ = self._times(0)
        self.spans.append(
            Span(
                span_id=span_id,
                parent_id=parent,
                kind=SpanKind.CHAIN,
                name=name,
                start_ns=start,
                end_ns=start,
                status=SpanStatus(code=StatusCode.ERROR if error else StatusCode.OK),
            )
        )
        return span_id

    def build(self, answer: str | None = None, *, duration_ns: int | None = None) -> Trace:
        self.clock += 10
        ends = {s.span_id: s.end_ns for s in self.spans}
        # Children always come after their parent in self.spans, so one backwards
        # pass stretches every wrapper over all of its descendants.
        for span in reversed(self.spans):
            if span.parent_id is not None:
                ends[span.parent_id] = max(ends[span.parent_id], ends[span.span_id])
        end = duration_ns if duration_ns is not None else self.clock
        ends["root"] = max(ends["root"], end)
        spans = [s.model_copy(update={"end_ns": ends[s.span_id]}) for s in self.spans]
        spans[0] = spans[0].model_copy(update={"output": answer})
        return Trace(trace_id=self.trace_id, start_ns=0, end_ns=ends["root"], spans=spans)
