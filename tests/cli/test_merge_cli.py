"""``backtest merge``: shard result.json files in, one report and one gate decision out.

The shard files are built the way the plugin builds them (``build_run_report``
over a real evalset on disk), from case results given as data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent_backtest.cli.main import cli
from agent_backtest.config import Settings
from agent_backtest.gate.model import ExitCode
from agent_backtest.replay.result import CaseOutcome, CaseResult, RunResult
from agent_backtest.report.assemble import GateInputs, build_run_report, load_evalsets
from agent_backtest.report.json_io import write_result
from agent_backtest.report.model import RunReport
from agent_backtest.report.shards import shard_index
from agent_backtest.scoring.verdict import Outcome, Verdict
from tests.cli.test_calibrate_cli import _evalset_with_a_disagreement

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PLUGIN_EVALSET = FIXTURES / "plugin" / "evalsets" / "support"
MODES = {
    "follows-recorded-path": ["step_repetition"],
    "loops-on-lookup": ["step_repetition"],
    "refunds-twice": ["hallucinated_tool_input"],
}


def case_result(case_id: str, passed: bool = True, *, evalset: str = "support") -> CaseResult:
    outcome = CaseOutcome.PASSED if passed else CaseOutcome.FAILED
    verdict = Verdict(
        classifier="step_repetition",
        version="1",
        outcome=Outcome.PASS if passed else Outcome.FAIL,
        reason="no repetition" if passed else "lookup_order called 4 times",
        failure_mode="step_repetition",
    )
    run = RunResult(
        outcome=outcome,
        verdicts=[verdict],
        problems=[] if passed else ["step_repetition detected"],
        duration_s=0.01,
    )
    return CaseResult(
        case_id=case_id,
        evalset=evalset,
        failure_modes=MODES.get(case_id, ["step_repetition"]),
        outcome=outcome,
        runs=[run],
        pass_rate=1.0 if passed else 0.0,
        duration_s=0.01,
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the plugin tests' evalset; the working directory of each test."""
    shutil.copytree(PLUGIN_EVALSET, tmp_path / "evalsets" / "support")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BACKTEST_GATE_OVERRIDE", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def write_shards(project: Path, results: list[CaseResult], total: int = 2) -> list[str]:
    """One result.json per shard, as ``pytest --agent-evals-shard i/total`` writes it."""
    evalsets = load_evalsets(sorted(p.parent for p in project.glob("evalsets/*/evalset.yaml")))
    names = []
    for index in range(1, total + 1):
        mine = [r for r in results if shard_index(r.evalset, r.case_id, total) == index]
        report = build_run_report(
            mine,
            evalsets=evalsets,
            inputs=GateInputs(),
            settings=Settings(),
            project_root=project,
            shard=f"{index}/{total}",
        )
        name = f"shard{index}.json"
        write_result(report, project / name)
        names.append(name)
    return names


def merge(*args: str) -> Result:
    return CliRunner().invoke(cli, ["merge", *args])


def merged_report(folder: Path) -> RunReport:
    return RunReport.model_validate_json((folder / "result.json").read_text())


def everything(passing: bool = True) -> list[CaseResult]:
    return [case_result(c, passed=passing or c == "follows-recorded-path") for c in MODES]


def test_merging_every_shard_decides_the_gate_like_one_run(project: Path) -> None:
    shards = write_shards(project, everything())
    result = merge(*shards, "--output", "merged")
    assert result.exit_code == ExitCode.OK, result.output
    merged = merged_report(project / "merged")
    assert [c.case_id for c in merged.cases] == sorted(MODES)
    assert merged.shard is None
    assert merged.gate is not None
    assert (merged.gate.passed, merged.gate.partial) == (True, False)
    one_run = build_run_report(
        everything(),
        evalsets=load_evalsets([project / "evalsets" / "support"]),
        inputs=GateInputs(),
        settings=Settings(),
        project_root=project,
    )
    assert merged.gate == one_run.gate
    assert "merged 2 result file(s): 3 cases" in result.output
    written = sorted(p.name for p in (project / "merged").iterdir())
    assert written == ["junit.xml", "report.html", "result.json", "summary.md"]


def test_a_failed_case_exits_1_and_the_default_output_is_the_report_dir(project: Path) -> None:
    shards = write_shards(project, everything(passing=False))
    result = merge(*shards)
    assert result.exit_code == ExitCode.CASES_FAILED, result.output
    assert "exit 1: the gate failed and a case failed" in result.output
    assert merged_report(project / ".backtest" / "report").gate is not None


def _uncovered_frequent_mode(project: Path) -> None:
    body: dict[str, Any] = {
        "schema": "agent-backtest/coverage@1",
        "generated_at": "2025-01-01T00:00:00+00:00",
        "traces": 10,
        "modes": [{"mode": "context_overflow", "count": 6, "share": 0.6}],
    }
    (project / "evalsets" / "coverage.json").write_text(json.dumps(body))


def test_every_case_passing_with_an_uncovered_frequent_mode_exits_6(project: Path) -> None:
    shards = write_shards(project, everything())
    _uncovered_frequent_mode(project)  # the merge reads coverage.json, not the shards' copy
    result = merge(*shards)
    assert result.exit_code == ExitCode.GATE_FAILED, result.output
    gate = merged_report(project / ".backtest" / "report").gate
    assert gate is not None
    assert any("context_overflow" in reason for reason in gate.reasons)


def test_the_override_passes_the_merged_gate_and_says_why(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shards = write_shards(project, everything())
    _uncovered_frequent_mode(project)
    monkeypatch.setenv("BACKTEST_GATE_OVERRIDE", "release freeze exception #12")
    result = merge(*shards)
    assert result.exit_code == ExitCode.OK, result.output
    assert "release freeze exception #12" in result.output
    gate = merged_report(project / ".backtest" / "report").gate
    assert gate is not None
    assert gate.override == "release freeze exception #12"


def test_a_regression_against_the_baseline_fails_the_gate(project: Path) -> None:
    def repeated(case_id: str, passed: bool) -> CaseResult:
        result = case_result(case_id, passed)
        runs = [result.runs[0].model_copy(update={"attempt": i}) for i in range(8)]
        return result.model_copy(update={"runs": runs})

    main = [repeated(c, True) for c in MODES]
    candidate = [repeated(c, c != "loops-on-lookup") for c in MODES]
    write_shards(project, main, total=1)
    (project / "shard1.json").rename(project / "main.json")
    tolerant = "[tool.agent-backtest.gate]\nmin_pass_rate = 0\n"
    (project / "pyproject.toml").write_text(tolerant)
    shards = write_shards(project, candidate)
    assert merge(*shards).exit_code == ExitCode.OK
    result = merge(*shards, "--baseline", "main.json")
    assert result.exit_code == ExitCode.CASES_FAILED, result.output
    gate = merged_report(project / ".backtest" / "report").gate
    assert gate is not None
    assert {row.mode: row.status.value for row in gate.modes}["step_repetition"] == "regressed"


def test_the_same_file_twice_counts_once(project: Path) -> None:
    shards = write_shards(project, everything())
    result = merge(shards[0], *shards, shards[1])
    assert result.exit_code == ExitCode.OK, result.output
    assert len(merged_report(project / ".backtest" / "report").cases) == 3


def test_one_case_with_two_different_results_is_refused(project: Path) -> None:
    shards = write_shards(project, everything())
    rerun = json.loads((project / shards[0]).read_text())
    rerun["cases"][0]["duration_s"] = 9.5  # the same case, run again: which one counts?
    (project / "rerun.json").write_text(json.dumps(rerun))
    result = merge(*shards, "rerun.json")
    assert result.exit_code == ExitCode.USAGE
    case = f"support/{rerun['cases'][0]['case_id']}"
    assert result.output.startswith(
        f"error: rerun.json at cases[{case}]: case {case} is in both {shards[0]} and rerun.json"
    )
    assert "Traceback" not in result.output
    assert not (project / ".backtest" / "report").exists()


def test_a_missing_shard_is_refused_not_passed(project: Path) -> None:
    shards = write_shards(project, everything())
    result = merge(shards[1])
    assert result.exit_code == ExitCode.USAGE
    assert "case(s) have no result in the files merged" in result.output
    assert "(shards found: 2/2)" in result.output


def test_a_file_that_is_not_a_result_is_a_one_line_error(project: Path) -> None:
    (project / "broken.json").write_text("{oops")
    result = merge("broken.json")
    assert result.exit_code == ExitCode.USAGE
    assert result.output.startswith("error: broken.json:1:2: run result is not valid JSON")
    assert len(result.output.strip().splitlines()) == 1


def test_evalsets_are_found_from_the_working_directory_or_from_evalsets(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shards = [str(project / name) for name in write_shards(project, everything())]
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lost = merge(*shards)
    assert lost.exit_code == ExitCode.USAGE
    assert "evalset 'support' is not at evalsets/support" in lost.output
    assert "pass --evalsets DIR" in lost.output
    found = merge(*shards, "--evalsets", str(project / "evalsets"))
    assert found.exit_code == ExitCode.OK, found.output


def test_an_evalset_changed_since_the_shards_ran_is_refused(project: Path) -> None:
    shards = write_shards(project, everything())
    case_file = project / "evalsets" / "support" / "cases" / "refunds-twice.yaml"
    case_file.write_text(case_file.read_text().replace("amount: 10", "amount: 11"))
    result = merge(*shards)
    assert result.exit_code == ExitCode.USAGE
    assert "evalset 'support' ran at sha256:" in result.output
    assert "merge on the commit the shards ran on" in result.output


def test_a_calibration_threshold_fails_the_gate_when_the_classifier_disagrees_with_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = [  # every case passes; only the classifier's agreement with people differs
        case_result("invents-refund-amount-9be41d", evalset="support-agent"),
        case_result("loops-on-lookup-order-3f9a2c", evalset="support-agent"),
    ]
    agreeing, disagreeing = tmp_path / "agreeing", tmp_path / "disagreeing"
    # support-agent's evalset.yaml sets calibration_min_kappa: 0.6.
    shutil.copytree(
        FIXTURES / "evalsets" / "support-agent", agreeing / "evalsets" / "support-agent"
    )
    _evalset_with_a_disagreement(disagreeing / "evalsets")
    for project, expected in ((agreeing, ExitCode.OK), (disagreeing, ExitCode.GATE_FAILED)):
        monkeypatch.chdir(project)
        result = merge(*write_shards(project, results))
        assert result.exit_code == expected, result.output
    gate = merged_report(disagreeing / ".backtest" / "report").gate
    assert gate is not None
    assert any("step_repetition" in r and "kappa" in r for r in gate.reasons)
