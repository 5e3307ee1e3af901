"""What a run is checked against: the classifiers a case expects, its budgets, and drift.

Kept apart from the runner so the checks stay pure functions over a ``Trace``
that the CLI's ``backtest score`` and the gate can reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent_backtest.errors import BacktestError
from agent_backtest.evalset.case import Case
from agent_backtest.replay.result import BudgetCheck, RunResult
from agent_backtest.scoring.case_calibration import find_drift
from agent_backtest.scoring.verdict import Classifier, Outcome, Verdict
from agent_backtest.trace.model import Trace

ClassifierResolver = Callable[[str], Classifier]


# -- classifiers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    classifier: Classifier
    kind: str  # "not_detected" | "label"
    expected: str | int | float | bool | None = None


def expectations(case: Case, resolve: ClassifierResolver) -> list[Expectation]:
    """The classifiers a case needs, resolved up front: an unknown name is a ConfigError."""
    out = [Expectation(resolve(mode), "not_detected") for mode in case.expect.not_detected]
    out.extend(
        Expectation(resolve(name), "label", expected)
        for name, expected in case.expect.classifiers.items()
    )
    return out


def classify(classifier: Classifier, trace: Trace) -> Verdict:
    try:
        return classifier.classify(trace)
    except BacktestError as exc:  # a judge out of retries: an error, never a pass
        return Verdict(
            classifier=classifier.id,
            version=classifier.version,
            outcome=Outcome.ERROR,
            reason=exc.one_line(),
        )


def _expected_holds(verdict: Verdict, expected: str | int | float | bool | None) -> bool:
    label = (verdict.label or "").lower()
    if isinstance(expected, bool):
        return label == str(expected).lower() or (label == "" and verdict.passed is expected)
    if isinstance(expected, int | float):
        return verdict.value == expected or label == str(expected)
    return label == str(expected).lower()


def problem_of(exp: Expectation, verdict: Verdict) -> str | None:
    """The problem this verdict shows, or None when the expectation holds."""
    if exp.kind == "not_detected":
        if verdict.outcome is Outcome.FAIL:
            return f"{exp.classifier.id} detected: {verdict.reason}"
        return None
    if not _expected_holds(verdict, exp.expected):
        got = verdict.label if verdict.label is not None else verdict.value
        return f"{exp.classifier.id}: expected {exp.expected!r}, got {got!r} ({verdict.reason})"
    return None


def classifier_drift(
    case: Case, runs: Sequence[RunResult], needs: Sequence[Expectation]
) -> list[str]:
    """One line per classifier whose version differs from the one that labelled the case.

    The versions compared are those the runs' verdicts carry; a run that errored
    before scoring falls back to the versions the case resolved to.
    """
    used = {e.classifier.id: e.classifier.version for e in needs}
    used.update({v.classifier: v.version for run in runs for v in run.verdicts})
    lines: dict[str, str] = {}
    for drift in find_drift([case], used.get):
        key = f"{drift.classifier}@{drift.recorded_version}"
        lines.setdefault(
            key,
            f"{drift.classifier}: labelled at {drift.recorded_version}, "
            f"ran {drift.current_version}",
        )
    return list(lines.values())


# -- budgets -------------------------------------------------------------------------


def check_budgets(case: Case, trace: Trace, duration_s: float) -> list[BudgetCheck]:
    budgets = case.expect.budgets
    metrics = trace.metrics
    actual: dict[str, float | None] = {
        "max_llm_calls": metrics.llm_calls,
        "max_tool_calls": metrics.tool_calls,
        "max_cost_usd": metrics.cost,
        "max_duration_s": duration_s,
    }
    checks: list[BudgetCheck] = []
    for name, value in actual.items():
        limit = getattr(budgets, name)
        if limit is None:
            continue
        if value is None:
            # Intercepted calls carry no prices; an unknown cost cannot be over budget.
            checks.append(
                BudgetCheck(
                    name=name,
                    limit=limit,
                    actual=None,
                    passed=True,
                    reason="no LLM cost recorded, not checked",
                )
            )
            continue
        ok = value <= limit
        checks.append(
            BudgetCheck(
                name=name,
                limit=limit,
                actual=value,
                passed=ok,
                reason=f"{value:g} {'<=' if ok else '>'} {limit:g}",
            )
        )
    return checks
