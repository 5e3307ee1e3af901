"""The gate at the end of ``pytest --agent-evals``: result.json, exit codes, override, shards.

The fixture project has three cases: ``follows-recorded-path`` passes,
``loops-on-lookup`` and ``refunds-twice`` fail. Every scenario runs without and
with xdist (``-n 2``): the controller must see every case's full result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent_backtest.cli.main import cli
from agent_backtest.gate.model import ExitCode
from agent_backtest.replay.result import CaseOutcome
from agent_backtest.report.model import RunReport

XDIST = pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["inline", "xdist"])
CASES = ["follows-recorded-path", "loops-on-lookup", "refunds-twice"]
REPORT = Path(".backtest") / "report"
OVERRIDE = "hotfix for incident 4711, approved by on-call"


def result_json(project: pytest.Pytester, folder: Path = REPORT) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((project.path / folder / "result.json").read_text())
    return loaded


def case_ids(result: dict[str, Any]) -> list[str]:
    return sorted(case["case_id"] for case in result["cases"])


def keep_only_the_passing_case(project: pytest.Pytester) -> None:
    cases = project.path / "evalsets" / "support" / "cases"
    for name in ("loops-on-lookup", "refunds-twice"):
        (cases / f"{name}.yaml").unlink()


def write_coverage(project: pytest.Pytester, shares: dict[str, float]) -> None:
    """coverage.json as 'backtest coverage' writes it, counted over 100 production traces."""
    modes = [{"mode": m, "count": round(s * 100), "share": s} for m, s in shares.items()]
    body = {
        "schema": "agent-backtest/coverage@1",
        "generated_at": "2025-01-01T00:00:00+00:00",
        "traces": 100,
        "modes": modes,
    }
    (project.path / "evalsets" / "coverage.json").write_text(json.dumps(body))


def tolerate_failures(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("[tool.agent-backtest.gate]\nmin_pass_rate = 0\n")


@XDIST
def test_every_case_result_reaches_result_json_with_verdicts_and_traces(
    project: pytest.Pytester, workers: list[str]
) -> None:
    run = project.runpytest("--agent-evals", *workers)
    assert run.ret == ExitCode.CASES_FAILED
    result = result_json(project)
    assert case_ids(result) == CASES
    loops = next(c for c in result["cases"] if c["case_id"] == "loops-on-lookup")
    verdict = loops["runs"][0]["verdicts"][0]
    assert (verdict["classifier"], verdict["outcome"]) == ("step_repetition", "fail")
    # The full result travelled, candidate trace included (user_properties drop it).
    assert loops["runs"][0]["trace"]["spans"]
    assert result["classifier_versions"]["step_repetition"]
    [evalset] = result["evalsets"]
    assert evalset["path"] == "evalsets/support"
    assert evalset["lock_hash"].startswith("sha256:")
    assert evalset["cases_per_mode"] == {"hallucinated_tool_input": 1, "step_repetition": 2}
    assert result["gate"]["passed"] is False
    assert result["gate"].get("partial", False) is False
    written = sorted(p.name for p in (project.path / REPORT).iterdir())
    assert written == ["junit.xml", "report.html", "result.json", "summary.md"]
    run.stdout.fnmatch_lines(["*agent-backtest*", "exit 1: the gate failed and a case failed"])


@XDIST
def test_a_gate_that_tolerates_the_failed_cases_exits_0_and_lists_them(
    project: pytest.Pytester, workers: list[str]
) -> None:
    tolerate_failures(project)
    run = project.runpytest("--agent-evals", *workers)
    run.assert_outcomes(passed=1, failed=2)  # pytest still shows what failed
    assert run.ret == ExitCode.OK
    run.stdout.fnmatch_lines(
        [
            "tolerated by the gate policy: support/loops-on-lookup (failed)",
            "tolerated by the gate policy: support/refunds-twice (failed)",
        ]
    )
    assert result_json(project)["gate"]["passed"] is True


@XDIST
def test_every_case_passing_but_a_frequent_mode_uncovered_exits_6(
    project: pytest.Pytester, workers: list[str]
) -> None:
    keep_only_the_passing_case(project)
    write_coverage(project, {"step_repetition": 0.3, "context_overflow": 0.5})
    run = project.runpytest("--agent-evals", *workers)
    run.assert_outcomes(passed=1)
    assert run.ret == ExitCode.GATE_FAILED
    gate = result_json(project)["gate"]
    assert gate["passed"] is False
    assert any("context_overflow" in reason for reason in gate["reasons"])
    run.stdout.fnmatch_lines(
        ["exit 6: the gate failed and every case passed, but the gate did not"]
    )


def test_the_same_project_with_its_uncovered_mode_gone_exits_0(project: pytest.Pytester) -> None:
    keep_only_the_passing_case(project)
    write_coverage(project, {"step_repetition": 0.8})
    run = project.runpytest("--agent-evals")
    assert run.ret == ExitCode.OK
    assert result_json(project)["gate"]["passed"] is True


@XDIST
def test_the_override_passes_the_gate_and_its_reason_is_in_every_output(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    keep_only_the_passing_case(project)
    write_coverage(project, {"step_repetition": 0.3, "context_overflow": 0.5})
    monkeypatch.setenv("BACKTEST_GATE_OVERRIDE", OVERRIDE)
    run = project.runpytest("--agent-evals", *workers)
    assert run.ret == ExitCode.OK
    gate = result_json(project)["gate"]
    assert (gate["passed"], gate["override"]) == (True, OVERRIDE)
    assert gate["reasons"]  # what was overridden stays on record
    for name in ("summary.md", "junit.xml", "report.html"):
        text = (project.path / REPORT / name).read_text()
        assert "incident 4711" in text, name
    assert OVERRIDE in run.stdout.str()


@XDIST
def test_shards_partition_the_cases_and_their_merge_decides_like_a_full_run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    full = project.runpytest("--agent-evals", "--agent-evals-report=full")  # xdist: other tests
    shards: list[list[str]] = []
    for index in (1, 2):
        run = project.runpytest(
            "--agent-evals",
            f"--agent-evals-shard={index}/2",
            f"--agent-evals-report=shard{index}",
            *workers,
        )
        shard = result_json(project, Path(f"shard{index}"))
        assert shard["shard"] == f"{index}/2"
        # A shard keeps pytest's own exit code: the gate is decided by the merge.
        failed = any(c["outcome"] != "passed" for c in shard["cases"])
        assert run.ret == (ExitCode.CASES_FAILED if failed else ExitCode.OK)
        run.stdout.fnmatch_lines(
            [f"shard {index}/2: *run 'backtest merge' on all shards' result.json"]
        )
        shards.append(case_ids(shard))
    assert sorted(shards[0] + shards[1]) == CASES
    assert not set(shards[0]) & set(shards[1])

    monkeypatch.chdir(project.path)
    merged = CliRunner().invoke(
        cli, ["merge", "shard1/result.json", "shard2/result.json", "--output", "merged"]
    )
    assert merged.exit_code == full.ret, merged.output
    whole = RunReport.model_validate(result_json(project, Path("full")))
    combined = RunReport.model_validate(result_json(project, Path("merged")))
    assert combined.gate == whole.gate
    assert [c.case_id for c in combined.cases] == [c.case_id for c in whole.cases]
    assert combined.shard is None


@XDIST
def test_in_github_actions_the_step_summary_and_annotations_are_written(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: list[str]
) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## an earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = project.runpytest("--agent-evals", *workers)
    assert run.ret == ExitCode.CASES_FAILED
    text = summary.read_text()
    assert text.startswith("## an earlier step\n")  # appended, never replaced
    assert "loops-on-lookup" in text
    assert any(line.startswith("::error") for line in run.stdout.lines)


def test_outside_github_actions_no_step_summary_and_no_annotations(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = tmp_path / "step_summary.md"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = project.runpytest("--agent-evals")
    assert not summary.exists()
    assert not any(line.startswith("::error") for line in run.stdout.lines)


def _passing_baseline(project: pytest.Pytester, source: Path, target: Path) -> None:
    """The same run as if main had passed every run of every case."""
    report = RunReport.model_validate(result_json(project, source))
    for case in report.cases:
        case.outcome = CaseOutcome.PASSED
        case.pass_rate = 1.0
        for run in case.runs:
            run.outcome, run.error, run.problems = CaseOutcome.PASSED, None, []
    (project.path / target).write_text(report.to_json())


@XDIST
def test_a_regression_against_the_baseline_fails_a_gate_that_passes_without_it(
    project: pytest.Pytester, workers: list[str]
) -> None:
    tolerate_failures(project)  # the pass rate alone does not fail the gate
    args = ("--agent-evals", "--agent-evals-repeat=6")
    without = project.runpytest(*args, "--agent-evals-report=candidate")
    assert without.ret == ExitCode.OK
    _passing_baseline(project, Path("candidate"), Path("main.json"))
    against = project.runpytest(*args, "--agent-evals-baseline=main.json", *workers)
    assert against.ret == ExitCode.CASES_FAILED
    gate = result_json(project)["gate"]
    assert gate["passed"] is False
    assert gate["regressions"]
    rows = {row["mode"]: row for row in gate["modes"]}
    assert rows["step_repetition"]["status"] == "regressed"
    assert rows["step_repetition"]["baseline_pass_rate"] == 1.0


def test_a_subset_run_is_partial_and_an_ordinary_test_failure_keeps_pytests_exit(
    project: pytest.Pytester,
) -> None:
    subset = project.runpytest("--agent-evals", "-k", "follows")
    assert result_json(project)["gate"]["partial"] is True
    assert subset.ret == ExitCode.OK
    tolerate_failures(project)
    project.makepyfile(test_ordinary="def test_ordinary():\n    assert False\n")
    mixed = project.runpytest("--agent-evals", ".")
    assert result_json(project)["gate"]["passed"] is True
    assert mixed.ret == pytest.ExitCode.TESTS_FAILED  # the gate never hides a real test failure


def test_without_agent_evals_nothing_is_written(project: pytest.Pytester) -> None:
    project.makepyfile(test_ordinary="def test_ordinary():\n    pass\n")
    project.runpytest().assert_outcomes(passed=1)
    assert not (project.path / ".backtest").exists()


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("coverage", [], "*evalsets/coverage.json:1: not valid JSON*"),
        ("baseline", ["--agent-evals-baseline=main.json"], "*main.json:1:1: run result is not*"),
        ("", ["--agent-evals-baseline=missing.json"], "*missing.json: no baseline result file*"),
        ("policy", [], "*pyproject.toml*min_pass_rate*"),
        ("", ["--agent-evals-shard=3/2"], "*--agent-evals-shard: '3/2': I must be between*"),
        ("", ["--agent-evals-shard=first"], "*--agent-evals-shard: 'first' is not I/N*"),
    ],
    ids=["coverage", "baseline", "no-baseline", "policy", "shard-range", "shard-form"],
)
def test_broken_gate_inputs_are_one_line_usage_errors_before_any_case_runs(
    project: pytest.Pytester, setup: str, args: list[str], message: str
) -> None:
    if setup == "coverage":
        (project.path / "evalsets" / "coverage.json").write_text("{not json")
    elif setup == "baseline":
        (project.path / "main.json").write_text("<html>")
    elif setup == "policy":
        project.makepyprojecttoml("[tool.agent-backtest.gate]\nmin_pass_rate = 2\n")
    run = project.runpytest("--agent-evals", *args)
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in run.stderr.str() + run.stdout.str()
    assert not (project.path / REPORT).exists()


def test_help_says_the_shard_index_is_1_based(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--agent-evals-shard=I/N*", "*I is 1-based*"])
