"""agent-backtest: backtest an AI agent on its own production failures before it ships.

Names are loaded on first use (PEP 562), so ``import agent_backtest`` — which
pytest does for every run through the plugin entry point — stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "tool": "agent_backtest.replay.tools",
    "ToolError": "agent_backtest.replay.tools",
    "Case": "agent_backtest.evalset.case",
    "EvalSet": "agent_backtest.evalset.evalset",
    "load_evalset": "agent_backtest.evalset.evalset",
    "Verdict": "agent_backtest.scoring.verdict",
    "Classifier": "agent_backtest.scoring.verdict",
    "BacktestError": "agent_backtest.errors",
    "ConfigError": "agent_backtest.errors",
    "InputError": "agent_backtest.errors",
    "read_traces": "agent_backtest.trace.api",
    "Trace": "agent_backtest.trace.model",
    "Span": "agent_backtest.trace.model",
    "SpanKind": "agent_backtest.trace.model",
    "SpanStatus": "agent_backtest.trace.model",
    "StatusCode": "agent_backtest.trace.model",
    "LLMCall": "agent_backtest.trace.model",
    "ToolCall": "agent_backtest.trace.model",
    "ToolCallRequest": "agent_backtest.trace.model",
    "Message": "agent_backtest.trace.model",
    "TokenUsage": "agent_backtest.trace.model",
    "Annotation": "agent_backtest.trace.model",
    "AnnotationTarget": "agent_backtest.trace.model",
    "AnnotatorKind": "agent_backtest.trace.model",
    "TraceMetrics": "agent_backtest.trace.model",
}

__all__ = [
    "Annotation",
    "AnnotationTarget",
    "AnnotatorKind",
    "BacktestError",
    "Case",
    "Classifier",
    "ConfigError",
    "EvalSet",
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
    "ToolError",
    "Trace",
    "TraceMetrics",
    "Verdict",
    "__version__",
    "load_evalset",
    "read_traces",
    "tool",
]

if TYPE_CHECKING:
    from agent_backtest.errors import BacktestError, ConfigError, InputError
    from agent_backtest.evalset.case import Case
    from agent_backtest.evalset.evalset import EvalSet, load_evalset
    from agent_backtest.replay.tools import ToolError, tool
    from agent_backtest.scoring.verdict import Classifier, Verdict
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agent_backtest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
