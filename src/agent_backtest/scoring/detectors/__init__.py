"""Built-in rule detectors: one Classifier per operational failure mode.

Each is a class whose keyword arguments are its thresholds; the registry
(``agent_backtest.scoring.registry``) builds them by id.
"""

from __future__ import annotations

from agent_backtest.scoring.detectors.base import DETECTED, NOT_DETECTED, Detector, Finding
from agent_backtest.scoring.detectors.budgets import CostBlowup, LatencyBudget
from agent_backtest.scoring.detectors.context import ContextOverflow, Truncation
from agent_backtest.scoring.detectors.repetition import StepRepetition
from agent_backtest.scoring.detectors.retries import CascadingRetries
from agent_backtest.scoring.detectors.tool_failure import SilentToolFailure, ToolErrorRate
from agent_backtest.scoring.detectors.tool_input import HallucinatedToolInput

BUILTIN_DETECTORS: dict[str, type[Detector]] = {
    cls.id: cls
    for cls in (
        StepRepetition,
        ContextOverflow,
        HallucinatedToolInput,
        CascadingRetries,
        SilentToolFailure,
        Truncation,
        CostBlowup,
        LatencyBudget,
        ToolErrorRate,
    )
}

__all__ = [
    "BUILTIN_DETECTORS",
    "DETECTED",
    "NOT_DETECTED",
    "CascadingRetries",
    "ContextOverflow",
    "CostBlowup",
    "Detector",
    "Finding",
    "HallucinatedToolInput",
    "LatencyBudget",
    "SilentToolFailure",
    "StepRepetition",
    "ToolErrorRate",
    "Truncation",
]
