from __future__ import annotations

import re

from agent_backtest.gate.model import GateDecision, ModeRow, ModeStatus
from agent_backtest.replay.result import CaseOutcome, CaseResult, RunResult
from agent_backtest.report.terminal import render_summary
from tests.report.factory import (
    JUDGE_ERROR,
    LOOP_REASON,
    STEP_REPETITION_CELLS,
    failing_gate,
    run_report,
)


def _table(text: str) -> dict[str, list[str]]:
    """Mode table rows by mode, split on the column gaps."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("failure mode"))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        cells = re.split(r" {2,}", line.strip())
        rows[cells[0]] = cells
    return rows


def test_each_failure_mode_row_has_share_cases_pass_rate_interval_delta_and_status() -> None:
    rows = _table(render_summary(run_report()))
    assert rows["step_repetition"] == STEP_REPETITION_CELLS
    assert rows["hallucinated_tool_input"][1:4] == ["20.0%", "1", "33% (1/3)"]
    assert rows["hallucinated_tool_input"][-1] == "failed"
    assert rows["cost_blowup"] == ["cost_blowup", "6.0%", "0", "-", "-", "-", "uncovered"]
    assert list(rows) == [
        "step_repetition",
        "hallucinated_tool_input",
        "context_overflow",
        "cost_blowup",
    ]


def test_gate_line_with_coverage_reasons_warnings_and_flaky_cases() -> None:
    text = render_summary(run_report())
    assert "\ngate FAILED\n" in text
    assert "  production-weighted coverage 72.0% (minimum 90.0%)" in text
    for reason in failing_gate().reasons:
        assert f"  - {reason}" in text
    assert "  warning: classifier drift: step_repetition labelled at v0, ran v1" in text
    assert "  flaky: invents-refund-amount-9be41d" in text
    assert "override" not in text
    assert text.splitlines()[:2] == [
        "agent-backtest: 3 cases: 1 passed, 1 failed, 1 error",
        "  agent support_bot.agent:run, llm replay",
    ]


def test_an_override_and_quarantined_cases_are_shown() -> None:
    gate = failing_gate().model_copy(
        update={
            "passed": True,
            "override": "hotfix for incident 4411, approved by @lead",
            "quarantined": ["invents-refund-amount-9be41d"],
        }
    )
    text = render_summary(run_report(gate=gate))
    assert "gate OVERRIDDEN (passed by override)" in text
    assert "  override: hotfix for incident 4411, approved by @lead" in text
    assert "  quarantined (left out of the rates): invents-refund-amount-9be41d" in text


def test_one_line_per_failed_case_naming_its_failure_modes_and_why() -> None:
    text = render_summary(run_report(), width=200)
    block = text.split("failed cases:\n", 1)[1].splitlines()
    assert block == [
        "  FAILED invents-refund-amount-9be41d [step_repetition, hallucinated_tool_input]: "
        f"step_repetition: {LOOP_REASON}",
        f"  ERROR  overflows-context-77aa01 [context_overflow]: {JUDGE_ERROR}",
    ]
    assert "loops-on-lookup-order-3f9a2c" not in text  # the passing case


def test_a_narrow_terminal_wraps_reasons_and_keeps_every_word_and_mode_name() -> None:
    wide = render_summary(run_report(), width=1000)
    narrow = render_summary(run_report(), width=60)
    table = narrow.split("\n\n")[1].splitlines()
    prose = [line for line in narrow.splitlines() if line not in table]
    assert all(len(line) <= 60 for line in prose)
    assert any(line.startswith("hallucinated_tool_input ") for line in table)
    assert "…" not in narrow
    assert narrow.split() == wide.split()  # wrapping moves words; it never drops one
    assert "42.0%" in narrow


def test_without_a_gate_decision_there_is_no_table_but_failed_cases_are_listed() -> None:
    text = render_summary(run_report(with_gate=False))
    assert "failure mode" not in text
    assert "\ngate not evaluated\n" in text
    assert "FAILED invents-refund-amount-9be41d" in text


def test_untrusted_multi_line_errors_stay_on_one_line() -> None:
    report = run_report(gate=GateDecision(passed=True, modes=[]))
    report.cases = [
        CaseResult(
            case_id="c1",
            evalset="s",
            outcome=CaseOutcome.ERROR,
            runs=[RunResult(outcome=CaseOutcome.ERROR, error="boom\nTraceback\r\n  line 2")],
        )
    ]
    lines = render_summary(report).splitlines()
    assert "  ERROR  c1 [no failure mode]: boom Traceback line 2" in lines
    assert "gate PASSED" in lines


def test_a_row_note_and_a_shard_are_shown() -> None:
    gate = GateDecision(
        passed=True,
        partial=True,
        modes=[ModeRow(mode="truncation", cases=1, status=ModeStatus.NOT_RUN, note="deselected")],
    )
    report = run_report(gate=gate)
    report.shard = "2/4"
    text = render_summary(report)
    assert "not_run (deselected)" in text
    assert text.splitlines()[1] == "  agent support_bot.agent:run, llm replay, shard 2/4"
    assert "gate PASSED (partial: shard or subset)" in text


def test_without_a_baseline_the_table_has_no_baseline_column_and_fits_80_columns() -> None:
    report = run_report()
    assert report.gate is not None
    for row in report.gate.modes:
        row.baseline_pass_rate = row.delta = row.p_value = None
    table = render_summary(report, width=80).split("\n\n")[1].splitlines()
    assert "vs baseline" not in table[0]
    assert table[0].split() == [
        "failure",
        "mode",
        "prod",
        "share",
        "cases",
        "pass",
        "rate",
        "95%",
        "interval",
        "status",
    ]
    assert all(len(line) <= 80 for line in table)
