"""``evalset.yaml`` (``agent-backtest/evalset@1``): agent, classifiers, gate and replay policy.

Kept separate from the case model because the two files version independently.
The gate and replay engineers read these typed policies; classifiers stay
permissive (a name or an inline definition as a plain mapping) until the
classifier registry defines the inline shape.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EVALSET_SCHEMA: Final = "agent-backtest/evalset@1"
EVALSET_SCHEMA_PREFIX = "agent-backtest/evalset@"
EVALSET_SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


class GatePolicy(_Strict):
    """When a pull request may merge. Pure data; `gate/` evaluates it (docs/gate.md)."""

    min_coverage: float = Field(default=0.8, ge=0, le=1)
    """Production-weighted coverage the evalsets must reach (0-1): of the failure-mode
    occurrences counted in production (`coverage.json`), the share whose mode has at least
    `min_cases_per_mode` cases. Checked only when `coverage.json` exists."""
    min_cases_per_mode: int = Field(default=1, ge=1)
    """A failure mode counts as covered only with at least this many cases."""
    max_uncovered_share: float = Field(default=0.05, ge=0, le=1)
    """A production failure mode at least this frequent (its share of the traces counted in
    `coverage.json`) with fewer than `min_cases_per_mode` cases fails the gate."""
    min_pass_rate: float = Field(default=1.0, ge=0, le=1)
    """Share of each failure mode's runs (repeats included) that must pass (0-1); 1 means
    any failed run fails the gate. With repeats and a per-case pass rate, the lower applies."""
    min_pass_rate_by_mode: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict
    )
    """Failure mode -> its own minimum pass rate, instead of `min_pass_rate`."""
    max_regressions: int = Field(default=0, ge=0)
    """Most failure modes allowed to be significantly worse than the baseline (a one-sided
    exact test at `alpha`). Only with a baseline result."""
    alpha: float = Field(default=0.05, gt=0, le=0.5)
    """Significance of the regression test: a mode regressed when a pass rate this much
    lower than the baseline's would happen by chance with probability below `alpha`."""
    confidence: float = Field(default=0.95, gt=0, lt=1)
    """Confidence of the Wilson interval reported around each pass rate."""
    errors_count_as: Literal["fail", "skip"] = "fail"
    """An errored run (the agent crashed, a judge failed after retries) counts as a failed
    run (`fail`) or is left out with a warning (`skip`); never as a pass."""
    quarantine_flaky: bool = False
    """Leave flaky cases (repeats that disagree) out of the pass rates, listed as
    quarantined, instead of counting their failed runs."""
    classifier_drift: Literal["fail", "warn", "ignore"] = "warn"
    """When a classifier's version differs from the one that labelled production."""
    calibration_min_kappa: float | None = Field(default=None, ge=-1, le=1)
    """Judges whose agreement with human labels (Cohen's kappa) is lower block the gate."""


class ToolReplayPolicy(_Strict):
    """How replay answers calls to one tool."""

    unmatched: Literal["tool_error", "error", "live"] = "tool_error"
    """A call with no matching recording: give the agent a tool error, fail the case
    (`error`), or call the real tool (`live`, only for tools without side effects)."""
    matcher: Literal["exact", "subset", "superset"] = "exact"
    """`exact`: arguments equal; `subset`: the recorded arguments are contained in the
    call's; `superset`: the call's are contained in the recorded ones."""
    ignore_keys: list[str] = Field(default_factory=list)
    """Argument keys never compared (request ids, timestamps)."""
    positional_fallback: bool = False
    """With no match by arguments, answer with the next unused recording of the tool."""
    side_effects: bool = False
    """The tool changes the world (refunds, emails); it may then never run live."""

    @model_validator(mode="after")
    def _no_live_side_effects(self) -> ToolReplayPolicy:
        # Hard requirement: nothing real happens in replay for tools with side effects.
        if self.unmatched == "live" and self.side_effects:
            raise ValueError("a tool with side_effects: true cannot use unmatched: live")
        return self


class ReplayPolicy(_Strict):
    """Replay policy: one default plus per-tool overrides."""

    default: ToolReplayPolicy = Field(default_factory=ToolReplayPolicy)
    """Policy for tools not listed under `tools`."""
    tools: dict[str, ToolReplayPolicy] = Field(default_factory=dict)
    """Tool name -> its policy."""

    def for_tool(self, name: str) -> ToolReplayPolicy:
        return self.tools.get(name, self.default)


class EvalSetConfig(_Strict):
    """The contents of `evalsets/<set>/evalset.yaml` (`agent-backtest/evalset@1`)."""

    schema_: Literal["agent-backtest/evalset@1"] = Field(default=EVALSET_SCHEMA, alias="schema")
    """File format and version."""
    name: str = Field(min_length=1)
    """Evalset name, usually the folder name."""
    description: str | None = None
    """What the evalset covers."""
    agent: str | None = None
    """Entry point of the agent under test, `package.module:callable`."""
    classifiers: list[str | dict[str, Any]] = Field(default_factory=list)
    """Classifier ids, or inline classifier definitions (mappings)."""
    gate: GatePolicy = Field(default_factory=GatePolicy)
    """When a pull request may merge."""
    replay: ReplayPolicy = Field(default_factory=ReplayPolicy)
    """How recorded tool interactions answer the candidate."""
    failure_mode_labels: dict[str, str] = Field(default_factory=dict)
    """Annotation label -> taxonomy failure mode, used by promote. A key is `label`, or
    `annotation_name=label` to apply to one annotation only."""

    @model_validator(mode="after")
    def _agent_is_entry_point(self) -> EvalSetConfig:
        if self.agent is not None and (":" not in self.agent or self.agent.startswith(":")):
            raise ValueError("agent must be an entry point like 'package.module:callable'")
        return self

    def to_data(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        body.pop("schema", None)
        return {"schema": self.schema_, **body}
