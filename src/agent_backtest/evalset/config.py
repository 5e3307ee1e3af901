"""``evalset.yaml`` (``agent-backtest/evalset@1``): agent, classifiers, gate and replay policy.

Kept separate from the case model because the two files version independently.
The gate and replay engineers read these typed policies; classifiers stay
permissive (a name or an inline definition as a plain mapping) until the
classifier registry defines the inline shape.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EVALSET_SCHEMA: Final = "agent-backtest/evalset@1"
EVALSET_SCHEMA_PREFIX = "agent-backtest/evalset@"
EVALSET_SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class GatePolicy(_Strict):
    """When a pull request may merge. Pure data; ``gate/`` evaluates it."""

    # Fraction of production failure modes (in this evalset) the candidate must be tested on.
    min_coverage: float = Field(default=1.0, ge=0, le=1)
    # A failure mode counts as covered only with at least this many cases.
    min_cases_per_mode: int = Field(default=1, ge=1)
    # Fraction of cases that must pass.
    min_pass_rate: float = Field(default=1.0, ge=0, le=1)
    # Cases that passed on the baseline and fail on the candidate.
    max_regressions: int = Field(default=0, ge=0)
    # A case whose classifier errored (judge down, bad output) is never a pass.
    errors_count_as: Literal["fail", "skip"] = "fail"
    # What to do when a classifier's version differs from the one that labelled production.
    classifier_drift: Literal["fail", "warn", "ignore"] = "warn"
    # Judges below this agreement with human labels (Cohen's kappa) block the gate.
    calibration_min_kappa: float | None = Field(default=None, ge=-1, le=1)


class ToolReplayPolicy(_Strict):
    """How replay answers calls to one tool."""

    # A call with no matching recording: return a tool error to the agent, fail the
    # case, or run the real tool (only for tools without side effects).
    unmatched: Literal["tool_error", "error", "live"] = "error"
    # exact: arguments equal; subset: recorded args contained in the call; superset: the reverse.
    matcher: Literal["exact", "subset", "superset"] = "exact"
    ignore_keys: list[str] = Field(default_factory=list)  # argument keys never compared
    # When no recording matches by arguments, answer with the next unused one in order.
    positional_fallback: bool = False
    side_effects: bool = False

    @model_validator(mode="after")
    def _no_live_side_effects(self) -> ToolReplayPolicy:
        # Hard requirement: nothing real happens in replay for tools with side effects.
        if self.unmatched == "live" and self.side_effects:
            raise ValueError("a tool with side_effects: true cannot use unmatched: live")
        return self


class ReplayPolicy(_Strict):
    default: ToolReplayPolicy = Field(default_factory=ToolReplayPolicy)
    tools: dict[str, ToolReplayPolicy] = Field(default_factory=dict)

    def for_tool(self, name: str) -> ToolReplayPolicy:
        return self.tools.get(name, self.default)


class EvalSetConfig(_Strict):
    """The contents of ``evalsets/<set>/evalset.yaml``."""

    schema_: Literal["agent-backtest/evalset@1"] = Field(default=EVALSET_SCHEMA, alias="schema")
    name: str = Field(min_length=1)
    description: str | None = None
    agent: str | None = None  # entry point "package.module:callable"
    # Classifier ids, or inline definitions (plain mappings until the registry types them).
    classifiers: list[str | dict[str, Any]] = Field(default_factory=list)
    gate: GatePolicy = Field(default_factory=GatePolicy)
    replay: ReplayPolicy = Field(default_factory=ReplayPolicy)
    # Annotation label -> taxonomy failure mode, used by promote. A key may be
    # "label" or "annotation_name=label" to scope it to one annotation.
    failure_mode_labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _agent_is_entry_point(self) -> EvalSetConfig:
        if self.agent is not None and (":" not in self.agent or self.agent.startswith(":")):
            raise ValueError("agent must be an entry point like 'package.module:callable'")
        return self

    def to_data(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        body.pop("schema", None)
        return {"schema": self.schema_, **body}
