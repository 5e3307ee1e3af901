"""The run result: every case result of one run plus what the gate decided.

This is ``result.json`` (schema ``agent-backtest/run-result@1``): the input of
every writer, of ``--agent-evals-baseline`` and of ``backtest merge``. Nothing
in it is derived again by a writer; writers only render.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent_backtest.evalset.config import GatePolicy
from agent_backtest.gate.model import CoverageSnapshot, GateDecision
from agent_backtest.replay.result import CaseOutcome, CaseResult

RUN_SCHEMA = "agent-backtest/run-result@1"


class EvalsetInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str  # relative to the project root
    lock_hash: str | None = None  # evalset.lock's hash of the config and every case
    cases: int = 0  # cases in the evalset (not only those selected)
    cases_per_mode: dict[str, int] = Field(default_factory=dict)


class RunReport(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str = Field(default=RUN_SCHEMA, alias="schema")
    created_at: str  # ISO 8601
    agent: str | None = None
    llm_mode: str = "replay"
    shard: str | None = None  # "i/n" when this is one shard of a run
    evalsets: list[EvalsetInfo] = Field(default_factory=list)
    cases: list[CaseResult] = Field(default_factory=list)
    classifier_versions: dict[str, str] = Field(default_factory=dict)  # id -> version run
    policy: GatePolicy = Field(default_factory=GatePolicy)
    coverage: CoverageSnapshot | None = None
    gate: GateDecision | None = None

    def count(self, outcome: CaseOutcome) -> int:
        return sum(case.outcome is outcome for case in self.cases)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> RunReport:
        return cls.model_validate_json(text)
