"""What a classifier says about a trace: a value plus a reason plus evidence."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from agent_backtest.trace.model import Trace


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the classifier could not decide; never counted as a pass


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    classifier: str  # classifier id, e.g. "step_repetition" or "task_outcome"
    version: str  # content hash of the definition (judges) or code version (detectors)
    outcome: Outcome
    label: str | None = None  # e.g. "detected", "completed"
    value: float | None = None  # a numeric score where the classifier has one
    reason: str
    evidence: list[str] = Field(default_factory=list)  # span ids that support the verdict
    failure_mode: str | None = None  # the taxonomy key this classifier tests for, if any
    cost: float = 0.0  # USD spent producing the verdict (0 for rules and cache hits)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    @property
    def ref(self) -> str:
        return f"{self.classifier}@{self.version}"


@runtime_checkable
class Classifier(Protocol):
    """Anything with an id, a version and ``classify``; register third-party ones under
    the entry-point group ``agent_backtest.classifiers``."""

    id: str
    version: str

    def classify(self, trace: Trace) -> Verdict: ...
