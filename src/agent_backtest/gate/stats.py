"""Statistics for a non-deterministic agent: Wilson intervals, a one-sided exact test, flakiness.

An agent that passes a case 8 times in 10 has not "regressed" when it passes 7
times in 10 on the next run. These functions tell noise from a real change so
the gate blocks the second and not the first. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist

from agent_backtest.replay.result import CaseOutcome, CaseResult


def wilson_interval(passed: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``passed`` successes in ``runs`` trials.

    Unlike ``p +- z*sqrt(p(1-p)/n)`` it stays inside [0, 1] and is not zero
    width at 0/n or n/n, which are the usual results of a small evalset.
    ``runs == 0`` says nothing: (0, 1).
    """
    if not 0 <= passed <= runs:
        raise ValueError(f"passed={passed} must be between 0 and runs={runs}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must be between 0 and 1 (exclusive)")
    if runs == 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = passed / runs
    z2_n = z * z / runs
    centre = (p + z2_n / 2) / (1 + z2_n)
    half = z * math.sqrt(p * (1 - p) / runs + z2_n / (4 * runs)) / (1 + z2_n)
    # Clamp the float noise at the ends: 0/n must give exactly 0 and n/n exactly 1.
    low = 0.0 if passed == 0 else max(0.0, centre - half)
    high = 1.0 if passed == runs else min(1.0, centre + half)
    return (low, high)


# Up to here (both sides together) the exact sum takes a few milliseconds; the
# big integers grow quadratically beyond it (10,000 runs a side took 6 s).
EXACT_MAX_RUNS = 1000


def p_value_worse(
    candidate_passed: int, candidate_runs: int, baseline_passed: int, baseline_runs: int
) -> float:
    """One-sided Fisher exact test: P(a pass rate this low or lower | no real difference).

    Given the passes of both runs together, the candidate's share of them is
    hypergeometric under "same pass probability"; the p-value is its lower tail.
    Exact rather than a normal approximation because evalsets are small (tens of
    cases, a few repeats), where the approximation is worst: ``math.comb`` on
    Python integers keeps every term exact until one final division. Past
    ``EXACT_MAX_RUNS`` runs the same tail is summed in log space (relative error
    around 1e-12), where the normal approximation would be fine too.
    """
    for name, k, n in (
        ("candidate", candidate_passed, candidate_runs),
        ("baseline", baseline_passed, baseline_runs),
    ):
        if not 0 <= k <= n:
            raise ValueError(f"{name}: passed={k} must be between 0 and runs={n}")
    if candidate_runs == 0 or baseline_runs == 0:
        return 1.0
    total = candidate_runs + baseline_runs
    passes = candidate_passed + baseline_passed
    fails = total - passes
    lowest = max(0, passes - baseline_runs)
    tail = range(lowest, candidate_passed + 1)
    if total <= EXACT_MAX_RUNS:
        hits = sum(math.comb(passes, x) * math.comb(fails, candidate_runs - x) for x in tail)
        return hits / math.comb(total, candidate_runs)
    log_all = _log_comb(total, candidate_runs)
    terms = (
        math.exp(_log_comb(passes, x) + _log_comb(fails, candidate_runs - x) - log_all)
        for x in tail
    )
    return min(1.0, math.fsum(terms))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the given order.

    Comparing an adjusted p-value with alpha keeps the chance that noise alone
    flags *any* of the tests at alpha, whatever their number and correlation.
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def is_flaky(case: CaseResult) -> bool:
    """Repeated runs disagree: some passed and some failed. Errored runs decide nothing."""
    passed, failed, _ = outcome_counts(case)
    return passed > 0 and failed > 0


def flaky_cases(cases: Iterable[CaseResult]) -> list[str]:
    """Ids of the flaky cases, sorted."""
    return sorted(case_key(case) for case in cases if is_flaky(case))


def case_key(case: CaseResult) -> str:
    """How the gate names a case: ``evalset/case_id`` (ids are unique per evalset only)."""
    return f"{case.evalset}/{case.case_id}"


_PASSED, _FAILED, _ERROR = CaseOutcome.PASSED, CaseOutcome.FAILED, CaseOutcome.ERROR


def outcome_counts(case: CaseResult) -> tuple[int, int, int]:
    """(passed, failed, errored) runs of a case; without recorded runs, its outcome once."""
    if not case.runs:
        outcome = case.outcome
        return (outcome is _PASSED, outcome is _FAILED, outcome is _ERROR)
    # Module-level members and list.count: looking enum members up per run cost
    # more than the rest of the gate together at 50,000 runs.
    outcomes = [run.outcome for run in case.runs]
    return (outcomes.count(_PASSED), outcomes.count(_FAILED), outcomes.count(_ERROR))
