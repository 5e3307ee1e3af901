"""The gate's data: the production coverage snapshot and the decision, both pure data.

``evalsets/coverage.json`` is a ``CoverageSnapshot`` (committed, so CI needs no
production access); ``GateDecision`` is what ``gate.decide`` returns and every
report writer renders.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

COVERAGE_SCHEMA = "agent-backtest/coverage@1"


class ExitCode(IntEnum):
    """What ``pytest --agent-evals`` and ``backtest merge`` return (docs/gate.md).

    pytest keeps its own codes for everything else (4: usage error, 5: nothing
    collected); ``backtest`` returns 2 for a usage error. 6 is free in both.
    """

    OK = 0
    CASES_FAILED = 1
    USAGE = 2
    GATE_FAILED = 6  # every case passed (or was tolerated) but the gate did not


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ModeFrequency(_Strict):
    """How often production annotations named one failure mode."""

    mode: str
    count: int  # traces annotated with the mode
    share: float  # count / traces in the snapshot
    last_seen: str | None = None  # ISO 8601 time of the latest annotated trace


class CoverageSnapshot(_Strict):
    schema_: str = Field(default=COVERAGE_SCHEMA, alias="schema")
    generated_at: str  # ISO 8601
    sources: list[str] = Field(default_factory=list)  # the trace files it was counted from
    traces: int  # production traces read
    modes: list[ModeFrequency] = Field(default_factory=list)  # most frequent first


class ModeStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # pass rate below the policy's minimum
    REGRESSED = "regressed"  # significantly worse than the baseline
    UNCOVERED = "uncovered"  # fewer cases than min_cases_per_mode
    ERROR = "error"  # only errored runs: nothing decided
    NOT_RUN = "not_run"  # covered by cases, none selected in this run


class ModeRow(_Strict):
    """One failure mode in the gate table."""

    mode: str
    production_count: int | None = None
    production_share: float | None = None
    last_seen: str | None = None
    cases: int = 0  # cases in the evalsets that carry the mode
    runs: int = 0  # runs counted (repeats included, quarantined excluded)
    passed_runs: int = 0
    pass_rate: float | None = None
    interval: tuple[float, float] | None = None  # Wilson interval on pass_rate
    baseline_pass_rate: float | None = None
    delta: float | None = None  # pass_rate - baseline_pass_rate
    # One-sided (candidate worse than baseline), Holm-adjusted across the modes tested,
    # so it compares directly with the policy's alpha.
    p_value: float | None = None
    status: ModeStatus
    note: str | None = None


class GateDecision(_Strict):
    passed: bool  # after an override: True, with ``override`` saying why
    reasons: list[str] = Field(default_factory=list)  # why it failed, one line each
    warnings: list[str] = Field(default_factory=list)  # drift on warn, flaky cases, ...
    modes: list[ModeRow] = Field(default_factory=list)
    coverage: float | None = None  # production-weighted share of covered modes
    min_coverage: float | None = None
    regressions: list[str] = Field(
        default_factory=list
    )  # "evalset/id": passed on baseline, fail now
    flaky: list[str] = Field(default_factory=list)  # case ids whose repeats disagreed
    quarantined: list[str] = Field(default_factory=list)  # flaky cases left out of the rates
    drift: list[str] = Field(default_factory=list)  # "case: classifier a@1 -> a@2"
    override: str | None = None  # BACKTEST_GATE_OVERRIDE: passed anyway, and why
    partial: bool = False  # a shard or a deselected subset: coverage is not final
