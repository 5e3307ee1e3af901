"""Evalsets: case and evalset models, YAML storage, JSON schemas, migrations, locks."""

from __future__ import annotations

from agent_backtest.evalset.case import (
    CASE_SCHEMA,
    Budgets,
    Case,
    CaseAnnotation,
    CaseInput,
    CaseMessage,
    CaseSource,
    CaseToolCallRequest,
    Expectations,
    RedactionInfo,
    ToolRecording,
    canonical_json,
    content_hash_of,
    make_case_id,
    slugify,
)
from agent_backtest.evalset.config import (
    EVALSET_SCHEMA,
    EvalSetConfig,
    GatePolicy,
    ReplayPolicy,
    ToolReplayPolicy,
)

__all__ = [
    "CASE_SCHEMA",
    "EVALSET_SCHEMA",
    "Budgets",
    "Case",
    "CaseAnnotation",
    "CaseInput",
    "CaseMessage",
    "CaseSource",
    "CaseToolCallRequest",
    "EvalSetConfig",
    "Expectations",
    "GatePolicy",
    "RedactionInfo",
    "ReplayPolicy",
    "ToolRecording",
    "ToolReplayPolicy",
    "canonical_json",
    "content_hash_of",
    "make_case_id",
    "slugify",
]
