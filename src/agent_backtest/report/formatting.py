"""How numbers and one-line reasons read in every writer, so the terminal, Markdown,
JUnit and HTML say the same thing in the same words."""

from __future__ import annotations

from agent_backtest.evalset.evalset import CASES_DIR
from agent_backtest.gate.model import GateDecision, ModeRow
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.report.model import RunReport

DASH = "-"


def percent(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value:.{digits}%}"


def pass_rate(row: ModeRow) -> str:
    if row.pass_rate is None:
        return DASH
    return f"{percent(row.pass_rate)} ({row.passed_runs}/{row.runs})"


def interval(row: ModeRow) -> str:
    if row.interval is None:
        return DASH
    low, high = row.interval
    return f"[{percent(low)}, {percent(high)}]"


def delta(row: ModeRow) -> str:
    """Change in percentage points against the baseline, with the one-sided p-value."""
    if row.delta is None:
        return DASH
    text = f"{row.delta * 100:+.0f}pp"
    if row.p_value is not None:
        text += f" (p={row.p_value:.2f})"
    return text


def production_share(row: ModeRow) -> str:
    return percent(row.production_share, 1)


def gate_headline(gate: GateDecision | None) -> str:
    if gate is None:
        return "gate not evaluated"
    if gate.override is not None:
        return "gate OVERRIDDEN (passed by override)"
    verdict = "PASSED" if gate.passed else "FAILED"
    return f"gate {verdict}" + (" (partial: shard or subset)" if gate.partial else "")


def coverage_line(gate: GateDecision) -> str | None:
    if gate.coverage is None:
        return None
    line = f"production-weighted coverage {percent(gate.coverage, 1)}"
    if gate.min_coverage is not None:
        line += f" (minimum {percent(gate.min_coverage, 1)})"
    return line


def outcome_counts(report: RunReport) -> str:
    """``"1 passed, 1 failed, 1 error"``: the outcomes that occurred, in a fixed order."""
    counts = [(report.count(outcome), outcome.value) for outcome in CaseOutcome]
    return ", ".join(f"{n} {name}" for n, name in counts if n) or "no cases"


def unpassed_cases(report: RunReport) -> list[CaseResult]:
    """Failed and errored cases, failures first, each group in the report's order."""
    failed = [c for c in report.cases if c.outcome is CaseOutcome.FAILED]
    errored = [c for c in report.cases if c.outcome is CaseOutcome.ERROR]
    return failed + errored


def single_line(text: str) -> str:
    """Untrusted text (reasons, errors) on one line: every run of white space is one blank."""
    return " ".join(text.split())


def why_not_passed(case: CaseResult, mode: str | None = None) -> str:
    """One line: the run's error, else the failing verdict for ``mode``, else the first
    problem, else the first failing verdict."""
    return single_line(_why_not_passed(case, mode))


def _why_not_passed(case: CaseResult, mode: str | None) -> str:
    run = case.first_unpassed
    if run is None:
        return case.outcome.value
    if run.error:
        return run.error
    failing = [v for v in run.verdicts if not v.passed]
    for_mode = next((v for v in failing if mode is not None and v.failure_mode == mode), None)
    if for_mode is not None:
        return f"{for_mode.classifier}: {for_mode.reason}"
    if run.problems:
        return run.problems[0]
    if failing:
        return f"{failing[0].classifier}: {failing[0].reason}"
    if len(case.runs) > 1:
        return f"pass rate {percent(case.pass_rate)} over {len(case.runs)} runs"
    return case.outcome.value


def modes_of(case: CaseResult) -> str:
    return ", ".join(case.failure_modes) or "no failure mode"


def case_file(report: RunReport, case: CaseResult) -> str:
    """The case's YAML file relative to the project root (``<evalset path>/cases/<id>.yaml``)."""
    folder = next(
        (info.path for info in report.evalsets if info.name == case.evalset),
        f"evalsets/{case.evalset}",
    )
    return f"{folder.rstrip('/')}/{CASES_DIR}/{case.case_id}.yaml"
