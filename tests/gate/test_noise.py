"""The issue's promise: noise from a non-deterministic agent does not block; a real drop does.

Baseline and candidate runs are drawn with ``random.Random(seed)``: every run of
every case passes independently with a fixed probability, as a flaky LLM agent
would. With the same probability on both sides, all differences are noise.
"""

from __future__ import annotations

import random

import pytest

from agent_backtest.evalset.config import GatePolicy
from agent_backtest.gate.decide import decide
from agent_backtest.gate.model import ModeStatus
from agent_backtest.gate.stats import p_value_worse
from agent_backtest.replay.result import CaseResult
from tests.gate.factory import result, sampled_run

MODES = (
    "step_repetition",
    "context_overflow",
    "truncation",
    "cost_blowup",
    "cascading_retries",
    "silent_tool_failure",
)
CASES_PER_MODE = dict.fromkeys(MODES, 10)
# Pass rates are judged by the baseline comparison alone here, not by a fixed minimum.
POLICY = GatePolicy(min_pass_rate=0.0)


def _gate_passes(
    seed: int, candidate_probability: float, baseline_probability: float = 0.8
) -> bool:
    rng = random.Random(seed)
    baseline = sampled_run(
        rng, cases=60, repeats=5, pass_probability=baseline_probability, modes=MODES
    )
    candidate = sampled_run(
        rng, cases=60, repeats=5, pass_probability=candidate_probability, modes=MODES
    )
    decision = decide(candidate, POLICY, cases_per_mode=CASES_PER_MODE, baseline=baseline)
    return decision.passed


@pytest.mark.parametrize("seed", range(10))
def test_noise_within_the_interval_passes(seed: int) -> None:
    assert _gate_passes(seed, candidate_probability=0.8)


@pytest.mark.parametrize("seed", range(10))
def test_a_real_drop_fails(seed: int) -> None:
    assert not _gate_passes(seed, candidate_probability=0.5)


def test_noise_fails_the_gate_at_most_alpha_of_the_time_across_modes() -> None:
    """Six modes tested at alpha 0.05 each would fail ~26% of noise runs uncorrected."""
    seeds = range(100, 250)
    false_alarms = sum(not _gate_passes(seed, 0.8) for seed in seeds)
    assert false_alarms / len(seeds) <= POLICY.alpha


def test_a_drop_of_a_quarter_is_caught_nearly_always() -> None:
    seeds = range(100, 250)
    caught = sum(not _gate_passes(seed, 0.55) for seed in seeds)
    assert caught / len(seeds) >= 0.9


def _spread(failed_runs: int, cases: int = 30, repeats: int = 5) -> list[CaseResult]:
    """``cases`` x ``repeats`` runs with ``failed_runs`` failures, one per case in turn."""
    grid = [["P"] * repeats for _ in range(cases)]
    for n in range(failed_runs):
        grid[n % cases][n // cases] = "F"
    return [result(f"case-{i:03d}", "".join(runs)) for i, runs in enumerate(grid)]


def test_a_small_dip_inside_the_interval_passes_and_reports_the_numbers() -> None:
    baseline = _spread(failed_runs=28)  # 122/150 = 81%
    candidate = _spread(failed_runs=36)  # 114/150 = 76%
    decision = decide(candidate, POLICY, cases_per_mode={"step_repetition": 30}, baseline=baseline)
    (row,) = decision.modes
    assert decision.passed, decision.reasons
    assert row.status is ModeStatus.PASSED
    assert (row.passed_runs, row.runs) == (114, 150)
    assert row.interval is not None
    assert row.baseline_pass_rate is not None
    low, high = row.interval
    assert low < row.baseline_pass_rate < high
    assert row.delta == pytest.approx(114 / 150 - 122 / 150)
    p_value = p_value_worse(114, 150, 122, 150)
    assert row.p_value == pytest.approx(p_value)
    assert 0.05 < p_value < 0.5
    # Cases that flipped are still named, as a warning.
    assert any("passed on the baseline and fail now" in w for w in decision.warnings)


def test_the_same_dip_over_ten_times_the_runs_is_a_regression() -> None:
    baseline = _spread(failed_runs=280, cases=300)
    candidate = _spread(failed_runs=360, cases=300)
    decision = decide(candidate, POLICY, cases_per_mode={"step_repetition": 300}, baseline=baseline)
    assert not decision.passed
    assert decision.modes[0].status is ModeStatus.REGRESSED
