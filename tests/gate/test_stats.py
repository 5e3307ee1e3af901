"""Wilson intervals against published values; the exact test against hand-computed tails."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from agent_backtest.gate import stats
from agent_backtest.gate.stats import flaky_cases, is_flaky, p_value_worse, wilson_interval
from tests.gate.factory import result


@pytest.mark.parametrize(
    ("passed", "runs", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Statistics in Medicine 17:857-872, Table I, method 3 (score, no correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_matches_published_values(passed: int, runs: int, low: float, high: float) -> None:
    got_low, got_high = wilson_interval(passed, runs, 0.95)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_widens_with_confidence_and_narrows_with_runs() -> None:
    low95, high95 = wilson_interval(8, 10, 0.95)
    low99, high99 = wilson_interval(8, 10, 0.99)
    assert low99 < low95 < 0.8 < high95 < high99
    low_many, high_many = wilson_interval(800, 1000, 0.95)
    assert high_many - low_many < (high95 - low95) / 5


def test_wilson_without_runs_knows_nothing_and_rejects_nonsense() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="between 0 and runs"):
        wilson_interval(3, 2)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, 1.0)


def _by_hand(k_c: int, n_c: int, k_b: int, n_b: int) -> Fraction:
    """The hypergeometric lower tail written out term by term."""
    passes, total = k_c + k_b, n_c + n_b
    return sum(
        (
            Fraction(math.comb(passes, x) * math.comb(total - passes, n_c - x))
            for x in range(0, k_c + 1)
            if n_c - x <= total - passes
        ),
        Fraction(0),
    ) / math.comb(total, n_c)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # 0/3 against 3/3: the only table as extreme is the observed one, 1 of C(6,3) = 20.
        ((0, 3, 3, 3), Fraction(1, 20)),
        # 1/4 against 4/4: C(5,1)*C(3,3) / C(8,4) = 5/70.
        ((1, 4, 4, 4), Fraction(5, 70)),
        # 3/10 against 9/10: (C(12,2)*C(8,8) + C(12,3)*C(8,7)) / C(20,10) = 1826/184756.
        ((3, 10, 9, 10), Fraction(1826, 184756)),
        # Better than the baseline: every table is at least as low.
        ((5, 5, 0, 5), Fraction(1)),
    ],
)
def test_fisher_one_sided_matches_hand_computed_tails(
    args: tuple[int, int, int, int], expected: Fraction
) -> None:
    assert p_value_worse(*args) == pytest.approx(float(expected), rel=1e-12)
    assert _by_hand(*args) == expected


def test_fisher_is_one_sided() -> None:
    worse = p_value_worse(2, 10, 8, 10)
    better = p_value_worse(8, 10, 2, 10)
    assert worse < 0.05 < 0.95 < better
    assert p_value_worse(7, 10, 7, 10) > 0.5  # the same rate is never evidence of worse


def test_fisher_without_runs_on_either_side_is_no_evidence() -> None:
    assert p_value_worse(0, 0, 5, 5) == 1.0
    assert p_value_worse(0, 5, 0, 0) == 1.0
    with pytest.raises(ValueError, match="baseline"):
        p_value_worse(1, 2, 3, 2)


@pytest.mark.parametrize("args", [(780, 1000, 800, 1000), (300, 600, 400, 600), (3, 10, 9, 10)])
def test_large_runs_sum_in_log_space_to_the_exact_value(
    args: tuple[int, int, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = float(_by_hand(*args))
    monkeypatch.setattr(stats, "EXACT_MAX_RUNS", 0)
    assert p_value_worse(*args) == pytest.approx(exact, rel=1e-9)


def test_flaky_means_passed_and_failed_runs_errors_aside() -> None:
    assert is_flaky(result("a", "PPF"))
    assert not is_flaky(result("b", "PPP"))
    assert not is_flaky(result("c", "FFF"))
    assert not is_flaky(result("d", "PEP"))  # an error is not a disagreement
    assert is_flaky(result("e", "PEF"))
    assert flaky_cases([result("z", "FP"), result("b", "PP"), result("a", "PF")]) == [
        "support/a",
        "support/z",
    ]
