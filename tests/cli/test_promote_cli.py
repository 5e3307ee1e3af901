"""``backtest promote`` through CliRunner on real OTLP JSON traces plus a sidecar label file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent_backtest.cli.main import cli
from agent_backtest.evalset.evalset import load_evalset

FIXTURES = Path(__file__).parents[1] / "fixtures" / "promote"
LOOPED = "7f3a9c2e4b1d4e8f9a0b1c2d3e4f5a6b"
REFUND = "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
TONE = "1a2b3c4d5e6f708192a3b4c5d6e7f809"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("support_traces.otlp.jsonl", "labels.jsonl"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    base = ["promote", "support_traces.otlp.jsonl", "labels.jsonl", "--evalset", "es"]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


MAP = ("--label-map", "failure_mode=looped:step_repetition")


def test_promote_writes_cases_and_reports_every_trace(workdir: Path) -> None:
    result = run("--annotation", "failure_mode", *MAP)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "created    es/evalset.yaml"
    assert lines[1].startswith("written    cases/step-repetition-on-lookup-order-x4-")
    assert f"(trace {LOOPED}; step_repetition; redacted email 1, phone 1)" in lines[1]
    assert lines[2].startswith("written    cases/hallucinated-tool-input-on-lookup-order-")
    assert lines[3] == (
        f"rejected   trace {TONE}: no failure mode (annotations failure_mode=tone map to none; "
        "add a label mapping, see docs/promote.md)"
    )
    assert lines[4] == "3 traces selected for es: 2 written, 0 duplicate, 1 rejected"
    evalset = load_evalset(workdir / "es")
    assert evalset.failure_modes() == ["hallucinated_tool_input", "step_repetition"]
    assert all(case.source.format == "otlp_json" for case in evalset.cases)
    assert "dana.whitfield@example.com" not in "".join(
        p.read_text() for p in (workdir / "es").rglob("*.yaml")
    )


def test_second_run_writes_nothing_and_names_the_cases(workdir: Path) -> None:
    run(*MAP)
    before = {p: p.read_bytes() for p in (workdir / "es").rglob("*") if p.is_file()}
    result = run(*MAP)
    assert result.exit_code == 0
    duplicates = [line for line in result.stdout.splitlines() if line.startswith("duplicate")]
    assert len(duplicates) == 2
    assert duplicates[0].startswith(f"duplicate  trace {LOOPED} is already case step-repetition-")
    assert result.stdout.splitlines()[-1].endswith("0 written, 2 duplicate, 2 rejected")
    assert {p: p.read_bytes() for p in (workdir / "es").rglob("*") if p.is_file()} == before


def test_dry_run_prints_and_writes_nothing(workdir: Path) -> None:
    result = run("--dry-run", "--failure-mode", "hallucinated_tool_input")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("would write cases/hallucinated-tool-input-on-lookup-order-")
    assert lines[1] == (
        "dry run, nothing written: 1 trace selected for es: 1 to write, 0 duplicate, 0 rejected"
    )
    assert not (workdir / "es").exists()


def test_selection_flags(workdir: Path) -> None:
    def summary(*args: str) -> str:
        return run("--dry-run", "--quiet", *MAP, *args).stdout.splitlines()[-1]

    assert f"(trace {REFUND};" in run("--dry-run", "--trace-id", REFUND).stdout
    assert "1 trace selected" in summary("--trace-id", REFUND)
    assert "1 trace selected" in summary("--session", "sess-2025-04-30-0003")
    assert "3 traces selected" in summary("--since", "2025-04-30T08:30:00")
    assert "1 trace selected" in summary("--until", "2025-04-30T08:30")
    assert "4 traces selected" in summary("--until", "2025-04-30")
    assert "2 traces selected" in summary("--limit", "2")
    assert "1 trace selected" in summary("--annotation", "failure_mode=tone")
    assert "1 trace selected" in summary("--failure-mode", "step_repetition")


def test_sampling_is_deterministic_for_a_seed(workdir: Path) -> None:
    picks = {
        seed: run("--dry-run", *MAP, "--sample", "0.5", "--seed", str(seed)).stdout
        for seed in range(6)
    }
    for seed, output in picks.items():
        assert run("--dry-run", *MAP, "--sample", "0.5", "--seed", str(seed)).stdout == output
    assert len(set(picks.values())) > 1  # different seeds pick different traces


def test_update_rewrites_only_when_asked(workdir: Path) -> None:
    run(*MAP)
    labels = workdir / "labels.jsonl"
    labels.write_text(labels.read_text().replace("4 times", "four times"))
    assert "2 duplicate" in run(*MAP).stdout
    result = run(*MAP, "--update")
    assert "updated    cases/step-repetition-on-lookup-order-x4-" in result.stdout
    assert "unchanged  cases/hallucinated-tool-input-" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "last week"), "--since 'last week' is not an ISO date"),
        (("--failure-mode", "looping"), "--failure-mode looping: unknown failure mode"),
        (("--label-map", "looped"), "expected LABEL:MODE"),
        (("--label-map", "looped:looping"), "maps to unknown failure mode 'looping'"),
        (("--seed", "3"), "--seed only applies with --sample"),
        (("--sample", "2"), "--sample 2.0 is outside (0, 1]"),
        (("--score-below", "helpfulness"), "expected NAME=NUMBER"),
        (("--format", "csv"), "'csv'; choose one of"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    workdir: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (workdir / "es" / "cases").exists()


def test_a_broken_evalset_yaml_stops_promote_with_its_location(workdir: Path) -> None:
    (workdir / "es").mkdir()
    (workdir / "es" / "evalset.yaml").write_text(
        "schema: agent-backtest/evalset@1\nname: x\nnmae: y\n"
    )
    result = run()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: es/evalset.yaml:3")
    assert "unknown key 'nmae'" in result.stderr
