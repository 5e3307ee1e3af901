"""A small, healthy agent-backtest project on disk, built with the real writers.

Every project gets its own agent module and tool names (a uuid suffix): agents
are imported into the test process, and ``@tool`` registers names process-wide,
so a fixed name would let one test's agent satisfy another test's check.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agent_backtest.doctor import CheckResult, DoctorOptions, Status, run_checks
from agent_backtest.evalset.case import Case
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.evalset import load_evalset
from agent_backtest.evalset.lock import write_lock
from agent_backtest.evalset.storage import write_case, write_evalset_config
from agent_backtest.replay.llm_cassette import CassetteStore, Interaction, key_material, request_key

CASE_ID = "loops-on-lookup-order-a1b2c3"
LLM_REQUEST = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Where is order A1042?"}],
    "temperature": 0,
}

AGENT_SOURCE = """\
from agent_backtest import tool


@tool(name="{tool}")
def lookup_order(order_id: str) -> dict:
    return {{"order_id": order_id, "status": "shipped"}}


def run(messages, state=None):
    return "Your order has shipped."
"""


@dataclass
class Project:
    root: Path
    agent_module: str
    tool: str
    environ: dict[str, str] = field(default_factory=dict)

    @property
    def evalset(self) -> Path:
        return self.root / "evalsets" / "orders"

    @property
    def case_file(self) -> Path:
        return self.evalset / "cases" / f"{CASE_ID}.yaml"

    @property
    def cassette(self) -> Path:
        store = CassetteStore(self.evalset / "llm" / CASE_ID)
        return store.path(request_key(LLM_REQUEST, 0))

    def pyproject(self, extra: str = "") -> None:
        (self.root / "pyproject.toml").write_text(
            '[project]\nname = "orders-agent"\n\n[tool.agent-backtest]\n'
            f'agent = "{self.agent_module}:run"\ncache_dir = ".backtest/cache"\n{extra}',
            encoding="utf-8",
        )

    def relock(self) -> None:
        write_lock(load_evalset(self.evalset))

    def results(
        self, *, evalsets: Path | None = None, skip_judge: bool = False, timeout: float = 5.0
    ) -> list[CheckResult]:
        options = DoctorOptions(
            evalsets=evalsets,
            skip_judge=skip_judge,
            environ=self.environ,
            pyproject=self.root / "pyproject.toml",
            classifiers_dir=self.root / "classifiers",
            judge_timeout=timeout,
        )
        return list(run_checks(options))


def named(results: list[CheckResult], name: str) -> list[CheckResult]:
    return [r for r in results if r.name == name]


def only(results: list[CheckResult], name: str) -> CheckResult:
    found = named(results, name)
    assert len(found) == 1, found
    return found[0]


def not_ok(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.status is not Status.OK and r.status is not Status.SKIP]


def make_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Agent module, pyproject, one evalset with a case, its LLM cassette and its lock.

    Changes the working directory to ``root``: settings paths are relative to it.
    """
    root.mkdir(parents=True, exist_ok=True)
    suffix = uuid.uuid4().hex[:10]
    project = Project(root, f"doctor_agent_{suffix}", f"lookup_order_{suffix}")
    (root / f"{project.agent_module}.py").write_text(
        AGENT_SOURCE.format(tool=project.tool), encoding="utf-8"
    )
    project.pyproject()
    write_evalset_config(EvalSetConfig(name="orders"), project.evalset / "evalset.yaml")
    case = Case.model_validate(
        {
            "id": CASE_ID,
            "title": "Loops on lookup_order",
            "source": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
            "failure_modes": ["step_repetition"],
            "input": {"messages": [{"role": "user", "content": "Where is order A1042?"}]},
            "recordings": [
                {"seq": 0, "tool": project.tool, "arguments": {"order_id": "A1042"}, "result": {}}
            ],
            "llm_recordings": f"llm/{CASE_ID}",
        }
    )
    write_case(case, project.case_file)
    body = {"choices": [{"message": {"role": "assistant", "content": "Shipped."}}]}
    interaction = Interaction(request_key(LLM_REQUEST, 0), key_material(LLM_REQUEST, 0), 200, body)
    CassetteStore(project.evalset / "llm" / CASE_ID).put(interaction)
    project.relock()
    monkeypatch.chdir(root)
    return project
