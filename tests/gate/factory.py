"""``CaseResult`` objects as the replay runner builds them, written as a run string.

``result("a", "PPF")`` is case ``a`` run three times: passed, passed, failed.
``E`` is an errored run. The case outcome follows the runner's rule
(``replay.runner.aggregate``): any errored run makes it ``error``; otherwise it
passes when every run passed, or at least ``required_pass_rate`` of them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from agent_backtest.replay.result import CaseOutcome, CaseResult, RunResult

_OUTCOMES = {"P": CaseOutcome.PASSED, "F": CaseOutcome.FAILED, "E": CaseOutcome.ERROR}


def result(
    case_id: str,
    runs: str = "P",
    modes: Sequence[str] = ("step_repetition",),
    *,
    evalset: str = "support",
    required_pass_rate: float | None = None,
    drift: Sequence[str] = (),
) -> CaseResult:
    outcomes = [_OUTCOMES[char] for char in runs]
    passed = outcomes.count(CaseOutcome.PASSED)
    rate = passed / len(outcomes)
    if CaseOutcome.ERROR in outcomes:
        outcome = CaseOutcome.ERROR
    elif passed == len(outcomes) or (required_pass_rate is not None and rate >= required_pass_rate):
        outcome = CaseOutcome.PASSED
    else:
        outcome = CaseOutcome.FAILED
    return CaseResult(
        case_id=case_id,
        evalset=evalset,
        failure_modes=list(modes),
        outcome=outcome,
        runs=[
            RunResult(
                attempt=i, outcome=o, error="judge timed out" if o is CaseOutcome.ERROR else None
            )
            for i, o in enumerate(outcomes)
        ],
        pass_rate=rate,
        required_pass_rate=required_pass_rate,
        drift=list(drift),
    )


def sampled_run(
    rng: random.Random,
    *,
    cases: int,
    repeats: int,
    pass_probability: float,
    modes: Sequence[str] = ("step_repetition",),
) -> list[CaseResult]:
    """A run of an agent that passes each run with ``pass_probability``, independently."""
    return [
        result(
            f"case-{i:03d}",
            "".join("P" if rng.random() < pass_probability else "F" for _ in range(repeats)),
            [modes[i % len(modes)]],
        )
        for i in range(cases)
    ]
