"""``decide``: one reason line per failing check, rows per failure mode, warnings that inform."""

from __future__ import annotations

import random

import pytest

from agent_backtest.evalset.config import GatePolicy
from agent_backtest.gate.decide import NO_MODE, decide
from agent_backtest.gate.model import CoverageSnapshot, ModeFrequency, ModeStatus
from tests.gate.factory import result

LOOP, TRUNC, COST = "step_repetition", "truncation", "cost_blowup"


def snapshot(**counts: int) -> CoverageSnapshot:
    traces = 200
    modes = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return CoverageSnapshot(
        generated_at="2025-05-01T00:00:00Z",
        traces=traces,
        modes=[
            ModeFrequency(mode=m, count=n, share=n / traces, last_seen="2025-04-30T08:00:00Z")
            for m, n in modes
        ],
    )


def test_all_passing_passes_and_one_failure_fails_with_the_defaults() -> None:
    green = [result("a", "P", [LOOP]), result("b", "P", [TRUNC])]
    decision = decide(green, GatePolicy(), cases_per_mode={LOOP: 1, TRUNC: 1})
    assert decision.passed
    assert decision.reasons == []
    assert [r.status for r in decision.modes] == [ModeStatus.PASSED, ModeStatus.PASSED]

    red = [result("a", "F", [LOOP]), result("b", "P", [TRUNC])]
    decision = decide(red, GatePolicy(), cases_per_mode={LOOP: 1, TRUNC: 1})
    assert not decision.passed
    assert decision.reasons == [
        "step_repetition: pass rate 0% (0/1 runs, 95% interval 0%-79%) is below the minimum "
        "100%; failing: support/a"
    ]
    assert decision.modes[0].status is ModeStatus.FAILED


def test_min_pass_rate_is_per_mode_over_runs_with_repeats_counted() -> None:
    cases = [
        result("a", "PPPPF", [LOOP]),
        result("b", "PPPPP", [LOOP]),
        result("c", "PFFPP", [TRUNC]),
    ]
    policy = GatePolicy(min_pass_rate=0.8, min_pass_rate_by_mode={TRUNC: 0.5})
    decision = decide(cases, policy, cases_per_mode={LOOP: 2, TRUNC: 1})
    loop, trunc = sorted(decision.modes, key=lambda r: r.mode)
    assert (loop.passed_runs, loop.runs, loop.pass_rate) == (9, 10, 0.9)
    assert (trunc.passed_runs, trunc.runs) == (3, 5)
    assert decision.passed
    stricter = policy.model_copy(update={"min_pass_rate_by_mode": {TRUNC: 0.7}})
    decision = decide(cases, stricter, cases_per_mode={LOOP: 2, TRUNC: 1})
    assert not decision.passed
    assert decision.reasons[0].startswith("truncation: pass rate 60% (3/5 runs")
    assert "below the minimum 70%; failing: support/c" in decision.reasons[0]


def test_the_runs_per_case_pass_rate_lowers_the_minimum_so_passing_cases_pass() -> None:
    cases = [result(c, "PPPPF", [LOOP], required_pass_rate=0.8) for c in "ab"]
    assert all(c.passed for c in cases)
    decision = decide(cases, GatePolicy(), cases_per_mode={LOOP: 2})
    assert decision.passed, decision.reasons
    assert decision.modes[0].note == "min pass rate 80%: the run's per-case pass rate"
    failing = [result("a", "PPPFF", [LOOP], required_pass_rate=0.8), cases[1]]
    assert not decide(failing, GatePolicy(), cases_per_mode={LOOP: 2}).passed


def test_regression_on_a_covered_mode_fails_and_names_the_flipped_cases() -> None:
    baseline = [result(f"c{i}", "PPP", [LOOP]) for i in range(10)]
    candidate = [result(f"c{i}", "PPP" if i < 4 else "FFP", [LOOP]) for i in range(10)]
    policy = GatePolicy(min_pass_rate=0.5)  # 60% passes the minimum: only the drop fails
    decision = decide(
        candidate,
        policy,
        cases_per_mode={LOOP: 10},
        coverage=snapshot(**{LOOP: 40}),
        baseline=baseline,
    )
    assert not decision.passed
    (row,) = decision.modes
    assert row.status is ModeStatus.REGRESSED
    assert (row.baseline_pass_rate, row.pass_rate) == (1.0, 0.6)
    assert row.delta == pytest.approx(-0.4)
    assert row.p_value is not None
    assert row.p_value < 1e-4
    assert decision.regressions == [f"support/c{i}" for i in range(4, 10)]
    (reason,) = decision.reasons
    assert reason.startswith(
        "1 failure mode significantly worse than the baseline (max_regressions 0, alpha 0.05): "
        "step_repetition 100% -> 60% (p="
    )
    assert reason.endswith(
        "passed on the baseline, fail now: support/c4, support/c5, "
        "support/c6, support/c7, support/c8 and 1 more"
    )


def test_max_regressions_tolerates_that_many_regressed_modes() -> None:
    baseline = [result(f"l{i}", "PPP", [LOOP]) for i in range(8)]
    baseline += [result(f"t{i}", "PPP", [TRUNC]) for i in range(8)]
    candidate = [result(f"l{i}", "FFF", [LOOP]) for i in range(8)]
    candidate += [result(f"t{i}", "PPP", [TRUNC]) for i in range(8)]
    policy = GatePolicy(min_pass_rate=0.0, max_regressions=1)
    decision = decide(candidate, policy, cases_per_mode={LOOP: 8, TRUNC: 8}, baseline=baseline)
    assert decision.passed
    assert any(
        w.startswith(
            "1 failure mode significantly worse than the baseline, within max_regressions 1"
        )
        for w in decision.warnings
    )
    policy = policy.model_copy(update={"max_regressions": 0})
    assert not decide(
        candidate, policy, cases_per_mode={LOOP: 8, TRUNC: 8}, baseline=baseline
    ).passed


def test_a_tolerated_regression_must_still_meet_the_minimum_pass_rate() -> None:
    baseline = [result(f"l{i}", "PPP", [LOOP]) for i in range(8)]
    candidate = [result(f"l{i}", "PPP" if i < 3 else "FFF", [LOOP]) for i in range(8)]
    policy = GatePolicy(min_pass_rate=0.5, max_regressions=1)
    decision = decide(candidate, policy, cases_per_mode={LOOP: 8}, baseline=baseline)
    assert decision.modes[0].status is ModeStatus.REGRESSED
    assert not decision.passed
    assert decision.reasons[0].startswith("step_repetition: pass rate 38% (9/24 runs")


def test_the_baseline_is_compared_on_the_same_cases_only() -> None:
    # The baseline ran cases this shard did not; they must not lower or raise the bar.
    baseline = [result(f"c{i}", "PPP", [LOOP]) for i in range(5)]
    baseline += [result(f"other{i}", "FFF", [LOOP]) for i in range(50)]
    candidate = [result(f"c{i}", "PPP", [LOOP]) for i in range(5)]
    decision = decide(
        candidate, GatePolicy(), cases_per_mode={LOOP: 55}, baseline=baseline, partial=True
    )
    (row,) = decision.modes
    assert row.baseline_pass_rate == 1.0
    assert decision.passed


def test_coverage_below_the_minimum_fails() -> None:
    cases = [result("a", "P", [LOOP]), result("b", "P", [TRUNC])]
    coverage = snapshot(**{LOOP: 50, TRUNC: 20, COST: 30})
    policy = GatePolicy(min_coverage=0.8, max_uncovered_share=1.0)
    decision = decide(cases, policy, cases_per_mode={LOOP: 1, TRUNC: 1}, coverage=coverage)
    assert decision.coverage == pytest.approx(0.7)
    assert decision.min_coverage == 0.8
    assert not decision.passed
    assert decision.reasons == [
        "production-weighted coverage 70% is below min_coverage 80%; uncovered: cost_blowup (15.0%)"
    ]
    cost = next(r for r in decision.modes if r.mode == COST)
    assert cost.status is ModeStatus.UNCOVERED
    assert cost.production_count == 30
    lower = policy.model_copy(update={"min_coverage": 0.7})
    assert decide(cases, lower, cases_per_mode={LOOP: 1, TRUNC: 1}, coverage=coverage).passed


def test_an_uncovered_frequent_mode_fails_even_when_coverage_is_high() -> None:
    cases = [result("a", "P", [LOOP])]
    coverage = snapshot(**{LOOP: 180, COST: 12, TRUNC: 8})  # cost 6%, truncation 4%
    policy = GatePolicy(min_coverage=0.5)
    decision = decide(cases, policy, cases_per_mode={LOOP: 1}, coverage=coverage)
    assert decision.coverage == pytest.approx(0.9)
    assert decision.reasons == [
        "cost_blowup: 6.0% of production traces (12) but 0 cases (min_cases_per_mode 1, "
        "max_uncovered_share 5.0%); promote some with 'backtest promote --failure-mode "
        "cost_blowup ...'"
    ]
    assert [r.mode for r in decision.modes] == [LOOP, COST, TRUNC]


def test_min_cases_per_mode_decides_what_is_covered() -> None:
    cases = [result("a", "P", [LOOP]), result("b", "P", [LOOP])]
    coverage = snapshot(**{LOOP: 100})
    assert decide(
        cases, GatePolicy(min_cases_per_mode=2), cases_per_mode={LOOP: 2}, coverage=coverage
    ).passed
    decision = decide(
        cases, GatePolicy(min_cases_per_mode=3), cases_per_mode={LOOP: 2}, coverage=coverage
    )
    assert not decision.passed
    assert decision.coverage == 0.0
    assert decision.modes[0].status is ModeStatus.UNCOVERED
    assert decision.modes[0].note == "2 of 3 cases needed"


def test_without_coverage_json_coverage_is_a_warning_not_a_reason() -> None:
    decision = decide(
        [result("a", "P", [LOOP])], GatePolicy(min_cases_per_mode=2), cases_per_mode={LOOP: 1}
    )
    assert decision.passed
    assert decision.coverage is None
    assert decision.min_coverage is None
    assert decision.warnings[0].startswith("no coverage.json: production coverage was not checked")
    assert "fewer than min_cases_per_mode 2 cases: step_repetition" in decision.warnings


def test_a_partial_run_turns_coverage_reasons_into_warnings_only() -> None:
    cases = [result("a", "P", [LOOP]), result("b", "F", [TRUNC])]
    coverage = snapshot(**{LOOP: 10, COST: 90})
    decision = decide(
        cases, GatePolicy(), cases_per_mode={LOOP: 1, TRUNC: 1}, coverage=coverage, partial=True
    )
    assert decision.partial
    assert len(decision.reasons) == 1
    assert decision.reasons[0].startswith("truncation: pass rate 0%")
    assert sum("(partial run: not decided here)" in w for w in decision.warnings) == 2


def test_errors_count_as_fail_counts_and_names_them() -> None:
    cases = [result("a", "PPE", [LOOP]), result("b", "PPP", [LOOP])]
    decision = decide(cases, GatePolicy(min_pass_rate=0.8), cases_per_mode={LOOP: 2})
    assert (decision.modes[0].passed_runs, decision.modes[0].runs) == (5, 6)
    assert decision.passed  # 83% >= 80%, but the error is named
    assert (
        "errored cases, counted as failed runs (errors_count_as: fail): support/a"
        in decision.warnings
    )
    strict = decide(cases, GatePolicy(), cases_per_mode={LOOP: 2})
    assert strict.reasons[0].endswith("failing: support/a; errored (counted as failed): support/a")


def test_errors_count_as_skip_leaves_them_out_but_never_passes_on_errors_alone() -> None:
    cases = [result("a", "PPE", [LOOP]), result("b", "EE", [TRUNC])]
    decision = decide(cases, GatePolicy(errors_count_as="skip"), cases_per_mode={LOOP: 1, TRUNC: 1})
    loop = next(r for r in decision.modes if r.mode == LOOP)
    trunc = next(r for r in decision.modes if r.mode == TRUNC)
    assert (loop.passed_runs, loop.runs, loop.status) == (2, 2, ModeStatus.PASSED)
    assert trunc.status is ModeStatus.ERROR
    assert trunc.runs == 0
    assert not decision.passed
    assert decision.reasons == [
        "truncation: every run errored, so nothing was decided and an error is never a pass: support/b"
    ]
    assert (
        "errored runs left out of the pass rates (errors_count_as: skip): support/a, support/b"
        in decision.warnings
    )


def test_flaky_cases_are_listed_and_quarantined_only_when_asked() -> None:
    cases = [result("a", "PFP", [LOOP]), result("b", "PPP", [LOOP]), result("c", "PEP", [LOOP])]
    decision = decide(cases, GatePolicy(), cases_per_mode={LOOP: 3})
    assert decision.flaky == ["support/a"]
    assert decision.quarantined == []
    assert not decision.passed
    quarantined = decide(
        cases, GatePolicy(quarantine_flaky=True, errors_count_as="skip"), cases_per_mode={LOOP: 3}
    )
    assert quarantined.passed, quarantined.reasons
    assert quarantined.quarantined == ["support/a"]
    assert (quarantined.modes[0].passed_runs, quarantined.modes[0].runs) == (5, 5)
    assert any(
        w.startswith("quarantined 1 flaky case: left out of the pass rates")
        for w in quarantined.warnings
    )


@pytest.mark.parametrize(
    ("setting", "fails", "warns"),
    [("fail", True, False), ("warn", False, True), ("ignore", False, False)],
)
def test_classifier_drift_follows_the_policy(setting: str, fails: bool, warns: bool) -> None:
    cases = [result("a", "P", [LOOP], drift=["step_repetition: labelled at 1, ran 2"])]
    decision = decide(cases, GatePolicy(classifier_drift=setting), cases_per_mode={LOOP: 1})
    assert decision.drift == ["support/a: step_repetition: labelled at 1, ran 2"]
    assert decision.passed is not fails
    assert any("classifier drift (1)" in r for r in decision.reasons) is fails
    assert any("classifier drift (1)" in w for w in decision.warnings) is warns


def test_calibration_below_the_minimum_kappa_fails() -> None:
    cases = [result("a", "P", [LOOP])]
    policy = GatePolicy(calibration_min_kappa=0.6)
    decision = decide(
        cases, policy, cases_per_mode={LOOP: 1}, calibration={"loop-judge": 0.41, "cost": 0.9}
    )
    assert decision.reasons == [
        "classifier loop-judge: agreement with human labels (Cohen's kappa 0.41) is below "
        "calibration_min_kappa 0.6; improve the judge and check it with 'backtest calibrate'"
    ]
    assert decide(cases, policy, cases_per_mode={LOOP: 1}, calibration={"loop-judge": 0.6}).passed
    unmeasured = decide(cases, policy, cases_per_mode={LOOP: 1})
    assert unmeasured.passed
    assert "no calibration was measured" in unmeasured.warnings[-1]
    assert decide(cases, GatePolicy(), cases_per_mode={LOOP: 1}, calibration={"j": -0.5}).passed


def test_override_passes_but_keeps_every_reason() -> None:
    cases = [result("a", "F", [LOOP])]
    decision = decide(
        cases,
        GatePolicy(),
        cases_per_mode={LOOP: 1},
        override="  hotfix INC-1234, approved by @ana ",
    )
    assert decision.passed
    assert decision.override == "hotfix INC-1234, approved by @ana"
    assert len(decision.reasons) == 1
    blank = decide(cases, GatePolicy(), cases_per_mode={LOOP: 1}, override="   ")
    assert not blank.passed
    assert blank.override is None


def test_cases_without_a_failure_mode_still_gate() -> None:
    decision = decide([result("a", "F", [])], GatePolicy(), cases_per_mode={})
    assert not decision.passed
    assert decision.modes[0].mode == NO_MODE
    assert decision.modes[0].status is ModeStatus.FAILED


def test_modes_not_run_are_rows_too_and_nothing_at_all_is_said() -> None:
    decision = decide([result("a", "P", [LOOP])], GatePolicy(), cases_per_mode={LOOP: 1, COST: 2})
    cost = next(r for r in decision.modes if r.mode == COST)
    assert cost.status is ModeStatus.NOT_RUN
    assert cost.cases == 2
    empty = decide([], GatePolicy(), cases_per_mode={})
    assert "no case results: nothing was run, so nothing was tested" in empty.warnings


def test_the_decision_does_not_depend_on_input_order() -> None:
    coverage = snapshot(**{LOOP: 30, TRUNC: 30, COST: 60})
    cases = [
        result(
            f"c{i}",
            "PF"[i % 2] * 2,
            [(LOOP, TRUNC, COST)[i % 3]],
            drift=[f"judge@{i}"] * (i % 4 == 0),
        )
        for i in range(30)
    ]
    baseline = [result(f"c{i}", "PP", [(LOOP, TRUNC, COST)[i % 3]]) for i in range(30)]
    per_mode = {LOOP: 10, TRUNC: 10, COST: 10}
    first = decide(
        cases, GatePolicy(), cases_per_mode=per_mode, coverage=coverage, baseline=baseline
    )
    shuffled = cases[:]
    random.Random(3).shuffle(shuffled)
    second = decide(
        shuffled,
        GatePolicy(),
        cases_per_mode=dict(reversed(per_mode.items())),
        coverage=coverage,
        baseline=baseline[::-1],
    )
    assert first == second
    assert [r.mode for r in first.modes] == [COST, LOOP, TRUNC]  # share, then name
