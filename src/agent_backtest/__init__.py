"""agent-backtest: backtest an AI agent on its own production failures before it ships."""

from __future__ import annotations

from agent_backtest.errors import BacktestError, ConfigError, InputError
from agent_backtest.trace.api import read_traces
from agent_backtest.trace.model import (
    Annotation,
    AnnotationTarget,
    AnnotatorKind,
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
    TraceMetrics,
)

__version__ = "0.1.0"

__all__ = [
    "Annotation",
    "AnnotationTarget",
    "AnnotatorKind",
    "BacktestError",
    "ConfigError",
    "InputError",
    "LLMCall",
    "Message",
    "Span",
    "SpanKind",
    "SpanStatus",
    "StatusCode",
    "TokenUsage",
    "ToolCall",
    "ToolCallRequest",
    "Trace",
    "TraceMetrics",
    "__version__",
    "read_traces",
]
