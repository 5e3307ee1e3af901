"""The per-case result: pure data, JSON round-trippable, what every adapter reports from.

The pytest plugin renders it as failure text and attaches its JSON to the
report (``user_properties``), xdist workers ship it to the controller, and the
gate reads a folder of them; none of them re-derive anything from the run.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent_backtest.replay.divergence import DivergenceReport
from agent_backtest.scoring.verdict import Outcome, Verdict
from agent_backtest.trace.model import Trace

RESULT_SCHEMA = "agent-backtest/case-result@1"


class CaseOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the run or a classifier could not decide; never counted as a pass


class BudgetCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str  # max_llm_calls | max_tool_calls | max_cost_usd | max_duration_s
    limit: float
    actual: float | None  # None: the run recorded nothing to check (e.g. no LLM cost)
    passed: bool
    reason: str


class RecordingUpdate(BaseModel):
    """What ``--agent-evals-update`` changed for one case (empty lists: nothing)."""

    model_config = ConfigDict(extra="forbid")

    added: list[str] = Field(default_factory=list)  # '#4 lookup_order(order_id="A9")'
    pruned: list[str] = Field(default_factory=list)  # recordings the run did not use
    llm_added: list[str] = Field(default_factory=list)  # cassette keys recorded
    llm_pruned: list[str] = Field(default_factory=list)  # cassette keys no request used
    case_file: str | None = None  # the case file, when it was rewritten
    skipped: str | None = None  # why nothing was written (e.g. the run errored)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.pruned or self.llm_added or self.llm_pruned)

    def render(self) -> str:
        if self.skipped:
            return f"recordings not updated: {self.skipped}"
        if not self.changed:
            return "recordings up to date"
        lines = [
            f"recordings updated: tool recordings +{len(self.added)} -{len(self.pruned)}, "
            f"LLM interactions +{len(self.llm_added)} -{len(self.llm_pruned)}"
        ]
        lines.extend(f"  + {item}" for item in self.added)
        lines.extend(f"  - {item}" for item in self.pruned)
        return "\n".join(lines)


class RunResult(BaseModel):
    """One run of the candidate on a case (one of K with ``--agent-evals-repeat K``)."""

    model_config = ConfigDict(extra="forbid")

    attempt: int = 0
    outcome: CaseOutcome
    error: str | None = None  # one line: why the run errored
    problems: list[str] = Field(default_factory=list)  # why it failed, one line each
    output: Any = None  # the agent's final output (JSON-able)
    verdicts: list[Verdict] = Field(default_factory=list)
    budgets: list[BudgetCheck] = Field(default_factory=list)
    divergence: DivergenceReport | None = None
    trace: Trace | None = None
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome is CaseOutcome.PASSED


class CaseResult(BaseModel):
    """Every run of one case and the outcome they add up to."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str = Field(default=RESULT_SCHEMA, alias="schema")
    case_id: str
    evalset: str
    agent: str | None = None
    llm_mode: str = "replay"
    failure_modes: list[str] = Field(default_factory=list)
    outcome: CaseOutcome
    runs: list[RunResult] = Field(default_factory=list)
    pass_rate: float = 0.0
    required_pass_rate: float | None = None  # None: every run must pass
    duration_s: float = 0.0
    # Classifiers whose version differs from the one that labelled the case in
    # production, one line each ("step_repetition: labelled at 1, ran 2"); the gate
    # warns or fails on them by policy.
    drift: list[str] = Field(default_factory=list)
    # --agent-evals-update only: recordings and cassette files added and pruned.
    updated: RecordingUpdate | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is CaseOutcome.PASSED

    @property
    def first_unpassed(self) -> RunResult | None:
        return next((r for r in self.runs if not r.passed), None)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> CaseResult:
        return cls.model_validate_json(text)

    def render(self) -> str:
        """The failure text: outcome, pass rate, verdicts, budgets, divergence. No traceback."""
        lines = [f"case {self.case_id} ({self.evalset}): {self.outcome.value.upper()}"]
        if len(self.runs) > 1:
            need = (
                "all runs"
                if self.required_pass_rate is None
                else f">= {self.required_pass_rate:.0%}"
            )
            passed = sum(r.passed for r in self.runs)
            lines.append(
                f"pass rate {self.pass_rate:.0%} ({passed}/{len(self.runs)} runs; need {need})"
            )
        lines.extend(f"classifier drift: {line}" for line in self.drift)
        if self.updated is not None:
            lines.append(self.updated.render())
        run = self.first_unpassed or (self.runs[0] if self.runs else None)
        if run is None:
            return "\n".join(lines)
        if len(self.runs) > 1:
            lines.append(f"run {run.attempt + 1} of {len(self.runs)}: {run.outcome.value}")
        lines.extend(render_run(run))
        return "\n".join(lines)


def render_run(run: RunResult) -> list[str]:
    lines: list[str] = []
    if run.error:
        lines.append(f"error: {run.error}")
    lines.extend(f"failed: {problem}" for problem in run.problems)
    if run.verdicts:
        lines.append("verdicts:")
        for verdict in run.verdicts:
            label = f" {verdict.label}" if verdict.label else ""
            lines.append(
                f"  {verdict.outcome.value.upper():5} {verdict.classifier}@{verdict.version}"
                f"{label}: {verdict.reason}"
            )
            if verdict.evidence and verdict.outcome is not Outcome.PASS:
                lines.append(f"        evidence: spans {', '.join(verdict.evidence)}")
    if run.budgets:
        lines.append("budgets:")
        lines.extend(
            f"  {'ok  ' if b.passed else 'OVER'} {b.name}: {b.reason}" for b in run.budgets
        )
    if run.divergence is not None:
        lines.append("divergence from the recorded production path:")
        lines.extend("  " + line for line in run.divergence.render().splitlines())
    return lines
