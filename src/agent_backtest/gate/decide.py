"""The merge decision: case results + policy (+ production coverage, a baseline) -> reasons.

``decide`` is a pure function; the pytest plugin and ``backtest merge`` both call
it with what they loaded, so a sharded run decides exactly like a single one.
Everything is counted per failure mode, over runs (repeats count), because the
question a reviewer asks is "can this change bring back a production failure?".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agent_backtest.evalset.config import GatePolicy
from agent_backtest.gate.coverage import is_covered, weighted_coverage
from agent_backtest.gate.model import (
    CoverageSnapshot,
    GateDecision,
    ModeFrequency,
    ModeRow,
    ModeStatus,
)
from agent_backtest.gate.stats import (
    case_key,
    flaky_cases,
    holm_adjusted,
    outcome_counts,
    p_value_worse,
    wilson_interval,
)
from agent_backtest.replay.result import CaseOutcome, CaseResult

NO_MODE = "(no failure mode)"  # the row for cases that name none, so they still gate
_SHOWN = 5  # case ids named in one reason line before "and N more"
_COVERAGE_HINT = (
    "run 'backtest coverage --traces PROD...' and commit evalsets/coverage.json to weigh "
    "coverage by production frequency"
)


@dataclass
class _Tally:
    """One failure mode's runs over the counted cases."""

    runs: int = 0
    passed: int = 0
    errored_runs: int = 0
    failing: list[str] = field(default_factory=list)  # cases with a counted failed run
    errored: list[str] = field(default_factory=list)
    case_pass_rate: float | None = None  # lowest per-case required pass rate (repeats)


def _modes_of(case: CaseResult) -> list[str]:
    return list(dict.fromkeys(case.failure_modes)) or [NO_MODE]


def _tally(
    cases: Iterable[CaseResult],
    *,
    errors_fail: bool,
    modes_of: Callable[[CaseResult], list[str]] = _modes_of,
) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = {}
    for case in cases:
        passed, failed, errored = outcome_counts(case)
        counted = passed + failed + (errored if errors_fail else 0)
        key = case_key(case)
        for mode in modes_of(case):
            tally = tallies.get(mode)
            if tally is None:
                tally = tallies[mode] = _Tally()
            tally.runs += counted
            tally.passed += passed
            tally.errored_runs += errored
            if passed < counted:
                tally.failing.append(key)
            if errored:
                tally.errored.append(key)
            if case.required_pass_rate is not None:
                lowest = tally.case_pass_rate
                tally.case_pass_rate = min(
                    case.required_pass_rate, 1.0 if lowest is None else lowest
                )
    return tallies


def _names(keys: Iterable[str]) -> str:
    """The first few, sorted (never in input order, which differs between shards)."""
    ordered = sorted(keys)
    shown = ", ".join(ordered[:_SHOWN])
    rest = len(ordered) - _SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _pct(value: float) -> str:
    return f"{value:.0%}"


@dataclass
class _Gate:
    """The decision being built: reasons fail it, warnings only inform."""

    policy: GatePolicy
    partial: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def coverage_problem(self, line: str) -> None:
        # A shard or a -k subset sees part of the run; ``backtest merge`` decides coverage.
        if self.partial:
            self.warnings.append(f"{line} (partial run: not decided here)")
        else:
            self.reasons.append(line)


def decide(
    cases: Sequence[CaseResult],
    policy: GatePolicy,
    *,
    cases_per_mode: Mapping[str, int],
    coverage: CoverageSnapshot | None = None,
    baseline: Sequence[CaseResult] | None = None,
    calibration: Mapping[str, float] | None = None,
    override: str | None = None,
    partial: bool = False,
) -> GateDecision:
    """Decide the gate. Every failing check adds one reason line; ``passed`` is "no reasons"
    unless ``override`` (BACKTEST_GATE_OVERRIDE) passes it anyway, reasons kept."""
    gate = _Gate(policy, partial)
    errors_fail = policy.errors_count_as == "fail"
    flaky = flaky_cases(cases)
    quarantined = flaky if policy.quarantine_flaky else []
    left_out = set(quarantined)
    counted = [c for c in cases if case_key(c) not in left_out]
    tallies = _tally(counted, errors_fail=errors_fail)
    baseline_tallies, newly_failing = _against_baseline(counted, baseline, errors_fail)

    rows = [
        _row(mode, policy, frequency, cases_per_mode, tallies.get(mode), baseline_tallies)
        for mode, frequency in _modes(coverage, cases_per_mode, tallies)
    ]
    # One test per mode: without the correction, ten modes of pure noise would fail
    # the gate in four runs out of ten at alpha 0.05. Holm keeps that chance at alpha.
    tested = [row for row in rows if row.p_value is not None]
    adjusted = holm_adjusted([r.p_value or 0.0 for r in tested])
    for row, p_value in zip(tested, adjusted, strict=True):
        row.p_value = p_value
    for row in rows:
        _set_status(row, policy, cases_per_mode, tallies.get(row.mode))
        _explain_row(gate, row, tallies.get(row.mode))
    _check_regressions(gate, rows, newly_failing)
    share = _check_coverage(gate, rows, coverage, cases_per_mode)
    _check_errors(gate, counted, errors_fail)
    drift = sorted(f"{case_key(c)}: {line}" for c in cases for line in c.drift)
    _check_drift(gate, drift)
    _check_calibration(gate, calibration)
    if flaky:
        gate.warnings.append(f"flaky cases (their repeats disagree): {_names(flaky)}")
    if quarantined:
        gate.warnings.append(
            f"quarantined {_count(len(quarantined), 'flaky case')}: left out of the pass rates "
            "(quarantine_flaky: true); fix or re-record them"
        )
    if not cases:
        gate.warnings.append("no case results: nothing was run, so nothing was tested")
    reason = override.strip() if override else ""
    return GateDecision(
        passed=not gate.reasons or bool(reason),
        reasons=gate.reasons,
        warnings=gate.warnings,
        modes=rows,
        coverage=share,
        min_coverage=policy.min_coverage if coverage is not None else None,
        regressions=newly_failing,
        flaky=flaky,
        quarantined=quarantined,
        drift=drift,
        override=reason or None,
        partial=partial,
    )


def _modes(
    coverage: CoverageSnapshot | None,
    cases_per_mode: Mapping[str, int],
    tallies: Mapping[str, _Tally],
) -> list[tuple[str, ModeFrequency | None]]:
    """Every mode production, the evalsets or the results know; most frequent first."""
    frequencies = {m.mode: m for m in coverage.modes} if coverage is not None else {}
    names = set(frequencies) | {m for m, n in cases_per_mode.items() if n > 0} | set(tallies)

    def order(mode: str) -> tuple[float, str]:
        frequency = frequencies.get(mode)
        return (-(frequency.share if frequency else 0.0), mode)

    return [(mode, frequencies.get(mode)) for mode in sorted(names, key=order)]


def _against_baseline(
    counted: Sequence[CaseResult], baseline: Sequence[CaseResult] | None, errors_fail: bool
) -> tuple[dict[str, _Tally] | None, list[str]]:
    """The baseline's tallies over the same cases (under today's modes), and the cases
    that passed there and fail now. Errored baseline runs say nothing, so they are left out."""
    if baseline is None:
        return None, []
    current = {case_key(c): c for c in counted}
    same: list[CaseResult] = []
    newly_failing: list[str] = []
    for old in baseline:
        key = case_key(old)
        now = current.get(key)
        if now is None:
            continue
        same.append(old)
        fails_now = now.outcome is CaseOutcome.FAILED or (
            errors_fail and now.outcome is CaseOutcome.ERROR
        )
        if old.outcome is CaseOutcome.PASSED and fails_now:
            newly_failing.append(key)

    def modes_now(old: CaseResult) -> list[str]:
        return _modes_of(current[case_key(old)])

    return _tally(same, errors_fail=False, modes_of=modes_now), sorted(newly_failing)


def _row(
    mode: str,
    policy: GatePolicy,
    frequency: ModeFrequency | None,
    cases_per_mode: Mapping[str, int],
    tally: _Tally | None,
    baseline: Mapping[str, _Tally] | None,
) -> ModeRow:
    row = ModeRow(
        mode=mode,
        production_count=frequency.count if frequency else None,
        production_share=frequency.share if frequency else None,
        last_seen=frequency.last_seen if frequency else None,
        cases=cases_per_mode.get(mode, 0),
        status=ModeStatus.PASSED,  # until _set_status
    )
    if tally is not None and tally.runs:
        row.runs, row.passed_runs = tally.runs, tally.passed
        row.pass_rate = tally.passed / tally.runs
        row.interval = wilson_interval(tally.passed, tally.runs, policy.confidence)
    before = baseline.get(mode) if baseline is not None else None
    if before is not None and before.runs and row.pass_rate is not None:
        row.baseline_pass_rate = before.passed / before.runs
        row.delta = row.pass_rate - row.baseline_pass_rate
        row.p_value = p_value_worse(row.passed_runs, row.runs, before.passed, before.runs)
    return row


def _set_status(
    row: ModeRow, policy: GatePolicy, cases_per_mode: Mapping[str, int], tally: _Tally | None
) -> None:
    mode = row.mode
    minimum = min_pass_rate(policy, mode, tally)
    covered = mode == NO_MODE or is_covered(mode, cases_per_mode, policy.min_cases_per_mode)
    if row.p_value is not None and row.p_value < policy.alpha:
        row.status = ModeStatus.REGRESSED
    elif _below(row, minimum):
        row.status = ModeStatus.FAILED
    elif tally is not None and not tally.runs and tally.errored_runs:
        row.status, row.note = ModeStatus.ERROR, "every run errored"
    elif not covered:
        row.status = ModeStatus.UNCOVERED
        row.note = f"{row.cases} of {policy.min_cases_per_mode} cases needed"
    elif tally is None or not tally.runs:
        row.status, row.note = ModeStatus.NOT_RUN, "no case of this mode ran"
    if row.status is ModeStatus.PASSED and minimum < _configured(policy, mode):
        row.note = f"min pass rate {_pct(minimum)}: the run's per-case pass rate"


def _configured(policy: GatePolicy, mode: str) -> float:
    return policy.min_pass_rate_by_mode.get(mode, policy.min_pass_rate)


def min_pass_rate(policy: GatePolicy, mode: str, tally: _Tally | None = None) -> float:
    """The mode's minimum: its own or the policy's, lowered to the per-case pass rate the
    run was given (``--agent-evals-pass-rate``), so every case passing passes the gate."""
    configured = _configured(policy, mode)
    if tally is None or tally.case_pass_rate is None:
        return configured
    return min(configured, tally.case_pass_rate)


def _below(row: ModeRow, minimum: float) -> bool:
    # In whole runs, so 4/5 meets 0.8 whatever the float rounding of 0.8 * 5.
    return row.runs > 0 and row.passed_runs < minimum * row.runs - 1e-9


def _explain_row(gate: _Gate, row: ModeRow, tally: _Tally | None) -> None:
    if tally is None:
        return
    errored = ""
    if tally.errored and gate.policy.errors_count_as == "fail":
        errored = f"; errored (counted as failed): {_names(tally.errored)}"
    minimum = min_pass_rate(gate.policy, row.mode, tally)
    # Checked apart from the status: a regressed mode tolerated by max_regressions
    # must still meet its minimum.
    if _below(row, minimum) and row.pass_rate is not None and row.interval:
        low, high = row.interval
        gate.reasons.append(
            f"{row.mode}: pass rate {_pct(row.pass_rate)} ({row.passed_runs}/{row.runs} runs, "
            f"{_pct(gate.policy.confidence)} interval {_pct(low)}-{_pct(high)}) is below "
            f"the minimum {_pct(minimum)}; failing: {_names(tally.failing)}{errored}"
        )
    elif row.status is ModeStatus.ERROR:
        gate.reasons.append(
            f"{row.mode}: every run errored, so nothing was decided and an error is never "
            f"a pass: {_names(tally.errored)}"
        )


def _check_regressions(gate: _Gate, rows: Sequence[ModeRow], newly_failing: list[str]) -> None:
    regressed = [r for r in rows if r.status is ModeStatus.REGRESSED]
    allowed = gate.policy.max_regressions
    details = ", ".join(
        f"{r.mode} {_pct(r.baseline_pass_rate or 0)} -> {_pct(r.pass_rate or 0)} "
        f"(p={r.p_value:.3g})"
        for r in regressed
    )
    cases = f"; passed on the baseline, fail now: {_names(newly_failing)}" if newly_failing else ""
    if len(regressed) > allowed:
        gate.reasons.append(
            f"{_count(len(regressed), 'failure mode')} significantly worse than the baseline "
            f"(max_regressions {allowed}, alpha {gate.policy.alpha:g}): {details}{cases}"
        )
    elif regressed:
        gate.warnings.append(
            f"{_count(len(regressed), 'failure mode')} significantly worse than the baseline, "
            f"within max_regressions {allowed}: {details}{cases}"
        )
    elif newly_failing:
        gate.warnings.append(
            f"{_count(len(newly_failing), 'case')} passed on the baseline and fail now, but no failure "
            f"mode is significantly worse (alpha {gate.policy.alpha:g}): {_names(newly_failing)}"
        )


def _check_coverage(
    gate: _Gate,
    rows: Sequence[ModeRow],
    coverage: CoverageSnapshot | None,
    cases_per_mode: Mapping[str, int],
) -> float | None:
    policy = gate.policy
    if coverage is None:
        gate.warnings.append(
            f"no coverage.json: production coverage was not checked; {_COVERAGE_HINT}"
        )
        thin = [r.mode for r in rows if r.status is ModeStatus.UNCOVERED]
        if thin:
            gate.warnings.append(
                f"fewer than min_cases_per_mode {policy.min_cases_per_mode} cases: {_names(thin)}"
            )
        return None
    share = weighted_coverage(coverage, cases_per_mode, policy.min_cases_per_mode)
    uncovered = [
        m
        for m in coverage.modes
        if not is_covered(m.mode, cases_per_mode, policy.min_cases_per_mode)
    ]
    if share < policy.min_coverage:
        missing = ", ".join(f"{m.mode} ({m.share:.1%})" for m in uncovered[:_SHOWN])
        gate.coverage_problem(
            f"production-weighted coverage {_pct(share)} is below min_coverage "
            f"{_pct(policy.min_coverage)}; uncovered: {missing}"
        )
    for mode in uncovered:
        if mode.share >= policy.max_uncovered_share:
            gate.coverage_problem(
                f"{mode.mode}: {mode.share:.1%} of production traces ({mode.count}) but "
                f"{cases_per_mode.get(mode.mode, 0)} cases (min_cases_per_mode "
                f"{policy.min_cases_per_mode}, max_uncovered_share "
                f"{policy.max_uncovered_share:.1%}); promote some with "
                f"'backtest promote --failure-mode {mode.mode} ...'"
            )
    return share


def _check_errors(gate: _Gate, counted: Sequence[CaseResult], errors_fail: bool) -> None:
    errored = sorted(case_key(c) for c in counted if outcome_counts(c)[2])
    if not errored:
        return
    if errors_fail:
        gate.warnings.append(
            f"errored cases, counted as failed runs (errors_count_as: fail): {_names(errored)}"
        )
    else:
        gate.warnings.append(
            f"errored runs left out of the pass rates (errors_count_as: skip): {_names(errored)}"
        )


def _check_drift(gate: _Gate, drift: Sequence[str]) -> None:
    if not drift or gate.policy.classifier_drift == "ignore":
        return
    line = (
        f"classifier drift ({len(drift)}): a version differs from the one that labelled "
        f"production: {_names(drift)}"
    )
    if gate.policy.classifier_drift == "fail":
        gate.reasons.append(f"{line} (classifier_drift: fail; re-label or re-promote the cases)")
    else:
        gate.warnings.append(line)


def _check_calibration(gate: _Gate, calibration: Mapping[str, float] | None) -> None:
    minimum = gate.policy.calibration_min_kappa
    if minimum is None:
        return
    if calibration is None:
        gate.warnings.append(
            f"calibration_min_kappa is {minimum:g} but no calibration was measured"
        )
        return
    for classifier, kappa in sorted(calibration.items()):
        if kappa < minimum:
            gate.reasons.append(
                f"classifier {classifier}: agreement with human labels (Cohen's kappa "
                f"{kappa:.2f}) is below calibration_min_kappa {minimum:g}; improve the judge "
                "and check it with 'backtest calibrate'"
            )
