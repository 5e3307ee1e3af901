"""``backtest coverage`` through CliRunner on real trace files and real evalset folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent_backtest.cli.main import cli
from agent_backtest.gate.coverage import read_coverage
from tests.gate.prod_traces import write_evalset, write_export

PROMOTE_FIXTURES = Path(__file__).parents[1] / "fixtures" / "promote"
SUPPORT_AGENT = Path(__file__).parents[1] / "fixtures" / "evalsets" / "support-agent"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("BACKTEST_EVALSETS", "BACKTEST_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n", encoding="utf-8")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["coverage", *args], catch_exceptions=False)


def test_counts_production_modes_prints_the_table_and_writes_the_snapshot(project: Path) -> None:
    write_export(project, {"looped": 12, "cost_blowup": 6, "truncation": 1, None: 81})
    write_evalset(
        project / "evalsets" / "support",
        {
            "loop-1": ["step_repetition"],
            "trunc-1": ["truncation"],
            "retry-1": ["cascading_retries"],
        },
        labels={"looped": "step_repetition"},
    )
    result = run("--traces", "prod.otlp.jsonl", "prod-labels.jsonl")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "failure mode       production   share  last seen            cases  covered",
        "step_repetition            12   12.0%  2025-04-30T19:00:00Z     1  yes",
        "cost_blowup                 6    6.0%  2025-05-01T01:00:00Z     0  no",
        "truncation                  1    1.0%  2025-05-01T02:00:00Z     1  yes",
        "cascading_retries           0       -  -                        1  yes",
        "100 traces, 19 failure-mode occurrences in 3 modes; production-weighted coverage 68% "
        "(min_coverage 80%)",
    ]
    assert "uncovered with a share >= max_uncovered_share 5%: cost_blowup" in result.stderr
    assert "wrote evalsets/coverage.json" in result.stderr
    snapshot = read_coverage(project / "evalsets" / "coverage.json")
    assert snapshot is not None
    assert snapshot.traces == 100
    assert snapshot.sources == ["prod.otlp.jsonl", "prod-labels.jsonl"]
    assert [(m.mode, m.count, m.share) for m in snapshot.modes] == [
        ("step_repetition", 12, 0.12),
        ("cost_blowup", 6, 0.06),
        ("truncation", 1, 0.01),
    ]


def test_the_repos_promote_fixtures_against_the_support_agent_evalset(project: Path) -> None:
    for name in ("support_traces.otlp.jsonl", "labels.jsonl"):
        shutil.copy(PROMOTE_FIXTURES / name, project / name)
    shutil.copytree(SUPPORT_AGENT, project / "evalsets" / "support-agent")
    result = run("support_traces.otlp.jsonl", "labels.jsonl", "--label-map", "tone:cost_blowup")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # evalset.yaml maps "looped"; --label-map adds "tone"; min_cases_per_mode is the default 1.
    assert lines[1].split() == ["cost_blowup", "1", "25.0%", "2025-04-30T10:00:00Z", "0", "no"]
    assert lines[2].split()[:2] == ["hallucinated_tool_input", "1"]
    assert lines[3].split()[:2] == ["step_repetition", "1"]
    # The evalset's gate: sets min_coverage 0.9, and the table says so.
    assert lines[-1].endswith("production-weighted coverage 67% (min_coverage 90%)")


def test_output_and_evalsets_flags_and_the_project_gate_table(project: Path) -> None:
    write_export(project, {"looped": 3, None: 1})
    write_evalset(project / "sets" / "one", {"loop-1": ["step_repetition"]})
    (project / "pyproject.toml").write_text(
        "[tool.agent-backtest.gate]\nmin_cases_per_mode = 2\n", encoding="utf-8"
    )
    result = run(
        "--traces", "prod.otlp.jsonl", "--traces", "prod-labels.jsonl",
        "--evalsets", "sets", "--label-map", "looped:step_repetition", "-o", "out/cov.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split()[-2:] == ["1", "no"]
    assert (project / "out" / "cov.json").is_file()
    assert not (project / "sets" / "coverage.json").exists()


def test_dry_run_writes_nothing(project: Path) -> None:
    write_export(project, {"truncation": 2})
    result = run("--traces", "prod.otlp.jsonl", "prod-labels.jsonl", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "no evalset under evalsets: every failure mode is uncovered" in result.stderr
    assert "dry run: nothing written" in result.stderr
    assert not (project / "evalsets").exists()


def test_the_snapshot_is_stable_json_a_reader_can_diff(project: Path) -> None:
    write_export(project, {"looped": 2, "truncation": 2})
    run("--traces", "prod.otlp.jsonl", "prod-labels.jsonl", "--label-map", "looped:step_repetition")
    body = json.loads((project / "evalsets" / "coverage.json").read_text(encoding="utf-8"))
    assert [m["mode"] for m in body["modes"]] == ["step_repetition", "truncation"]
    assert list(body["modes"][0]) == ["mode", "count", "share", "last_seen"]


def test_no_traces_and_bad_config_are_one_line_errors(project: Path) -> None:
    result = run()
    assert result.exit_code == 2
    assert "give the production traces: backtest coverage --traces FILE..." in result.output
    empty = project / "empty.otlp.jsonl"
    empty.write_text('{"resourceSpans": []}\n', encoding="utf-8")
    result = run("--traces", "empty.otlp.jsonl")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: empty.otlp.jsonl: no traces read (check the files with 'backtest traces stats')"
    )
    write_export(project, {"looped": 1})
    (project / "pyproject.toml").write_text(
        "[tool.agent-backtest.gate]\nmax_uncovered_share = 5\n", encoding="utf-8"
    )
    result = run("--traces", "prod.otlp.jsonl")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"error: {project / 'pyproject.toml'}: [tool.agent-backtest.gate] max_uncovered_share: "
        "5 is not valid (expected a number from 0 to 1)"
    )
