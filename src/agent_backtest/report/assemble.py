"""From case results to ``result.json``: the evalsets, the gate's inputs, and the decision.

The pytest plugin (at the end of a session) and ``backtest merge`` (over shard
results) both build their ``RunReport`` here, so a merged run decides the gate
exactly as one big run would. Everything the gate reads is loaded by
``load_gate_inputs`` first, which the plugin calls before any case runs: a
broken baseline, coverage.json or gate policy stops the run at once.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent_backtest.config import Settings
from agent_backtest.errors import BacktestError, ConfigError, Location
from agent_backtest.evalset.config import EvalSetConfig, GatePolicy
from agent_backtest.evalset.evalset import CONFIG_FILE, EvalSet, load_evalset
from agent_backtest.evalset.lock import lock_hash
from agent_backtest.evalset.storage import load_evalset_config
from agent_backtest.gate.coverage import COVERAGE_FILE, read_coverage
from agent_backtest.gate.decide import decide
from agent_backtest.gate.model import CoverageSnapshot, ExitCode
from agent_backtest.gate.policy import effective_policy
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.report.json_io import read_result
from agent_backtest.report.model import EvalsetInfo, RunReport

OVERRIDE_ENV = "BACKTEST_GATE_OVERRIDE"


def override_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The audited override's reason, or None; a blank reason is no override."""
    value = (os.environ if environ is None else environ).get(OVERRIDE_ENV, "")
    return value.strip() or None


def evalset_folders(evalsets_dir: Path) -> list[Path]:
    """Every evalset (a folder with evalset.yaml) directly under ``evalsets_dir``."""
    if not evalsets_dir.is_dir():
        return []
    return sorted(p.parent for p in evalsets_dir.glob(f"*/{CONFIG_FILE}"))


def relative_to(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it, with forward slashes."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


@dataclass(frozen=True)
class GateInputs:
    """What the gate reads besides the results and the evalsets; loaded before the run."""

    coverage: CoverageSnapshot | None = None
    baseline: RunReport | None = None
    override: str | None = None


def gate_policy(
    settings: Settings, configs: Sequence[EvalSetConfig], pyproject: Path | None = None
) -> GatePolicy:
    """[tool.agent-backtest.gate] combined with every evalset.yaml's gate."""
    where = Location(pyproject, field="tool.agent-backtest.gate") if pyproject else None
    return effective_policy(settings.gate, [c.gate for c in configs], where=where)


def load_gate_inputs(
    settings: Settings, *, project_root: Path, override: str | None = None
) -> GateInputs:
    """``<evalsets>/coverage.json`` and the baseline result. Raises a one-line BacktestError."""
    coverage = read_coverage(Path(project_root, settings.evalsets, COVERAGE_FILE))
    baseline = None
    if settings.baseline:
        path = Path(project_root, settings.baseline)
        if not path.is_file():
            raise ConfigError(
                "no baseline result file",
                where=Location(path),
                fix="point --agent-evals-baseline at the result.json of a run on main",
            )
        baseline = read_result(path)
    return GateInputs(coverage, baseline, override)


def evalset_configs(folders: Iterable[Path]) -> list[EvalSetConfig]:
    return [load_evalset_config(folder / CONFIG_FILE) for folder in folders]


def load_evalsets(folders: Iterable[Path], cache_dir: Path | None = None) -> list[EvalSet]:
    return [load_evalset(folder, cache_dir) for folder in folders]


def evalset_info(evalset: EvalSet, project_root: Path) -> EvalsetInfo:
    modes = Counter(mode for case in evalset.cases for mode in set(case.failure_modes))
    return EvalsetInfo(
        name=evalset.name,
        path=relative_to(evalset.root, project_root),
        lock_hash=lock_hash(evalset),
        cases=len(evalset.cases),
        cases_per_mode=dict(sorted(modes.items())),
    )


def classifier_versions(results: Iterable[CaseResult]) -> dict[str, str]:
    """Classifier id -> the version that ran; several versions are listed comma-separated."""
    seen: dict[str, set[str]] = {}
    for result in results:
        for run in result.runs:
            for verdict in run.verdicts:
                seen.setdefault(verdict.classifier, set()).add(verdict.version)
    return {name: ", ".join(sorted(versions)) for name, versions in sorted(seen.items())}


def missing_cases(results: Iterable[CaseResult], evalsets: Iterable[EvalSet]) -> list[str]:
    """``evalset/id`` of every case in the evalsets that has no result in this run."""
    ran = {(r.evalset, r.case_id) for r in results}
    return [
        f"{evalset.name}/{case.id}"
        for evalset in evalsets
        for case in evalset.cases
        if (evalset.name, case.id) not in ran
    ]


def calibration_kappas(
    results: Sequence[CaseResult], evalsets: Sequence[EvalSet]
) -> dict[str, float]:
    """Cohen's kappa per classifier over the run's cases (their human and classifier labels)."""
    from agent_backtest.scoring.case_calibration import calibrate_cases

    by_key = {(e.name, c.id): c for e in evalsets for c in e.cases}
    cases = [by_key[k] for r in results if (k := (r.evalset, r.case_id)) in by_key]
    # The run's own verdicts say which failure mode each classifier tests for.
    modes = {
        v.classifier: v.failure_mode
        for r in results
        for run in r.runs
        for v in run.verdicts
        if v.failure_mode
    }

    def failure_mode_of(classifier_id: str) -> str | None:
        return modes[classifier_id] if classifier_id in modes else _registered_mode(classifier_id)

    return {c.classifier: c.kappa for c in calibrate_cases(cases, failure_mode_of) if c.n}


def _registered_mode(classifier_id: str) -> str | None:
    """A classifier that gave no verdict in this run: ask the registry what it tests for."""
    from agent_backtest.scoring.registry import get_classifier

    try:
        mode = getattr(get_classifier(classifier_id), "failure_mode", None)
    except BacktestError:
        return None
    return str(mode) if mode else None


def _agent(results: Sequence[CaseResult], settings: Settings) -> str | None:
    agents = sorted({r.agent for r in results if r.agent})
    return ", ".join(agents) if agents else settings.agent


def build_run_report(
    results: Sequence[CaseResult],
    *,
    evalsets: Sequence[EvalSet],
    inputs: GateInputs,
    settings: Settings,
    project_root: Path,
    pyproject: Path | None = None,
    created_at: str | None = None,
    shard: str | None = None,
    partial: bool = False,
) -> RunReport:
    """The run's result.json with the gate decided over ``results``.

    The run is partial (coverage not final) when it is a shard or when any case
    of the evalsets has no result (-k, -m, --lf, a path to one case file).
    """
    evalsets = sorted(evalsets, key=lambda e: e.name)
    infos = [evalset_info(e, project_root) for e in evalsets]
    per_mode: Counter[str] = Counter()
    for info in infos:
        per_mode.update(info.cases_per_mode)
    partial = partial or shard is not None or bool(missing_cases(results, evalsets))
    policy = gate_policy(settings, [e.config for e in evalsets], pyproject)
    calibration = (
        calibration_kappas(results, evalsets) if policy.calibration_min_kappa is not None else None
    )
    gate = decide(
        results,
        policy,
        cases_per_mode=dict(per_mode),
        coverage=inputs.coverage,
        baseline=inputs.baseline.cases if inputs.baseline is not None else None,
        calibration=calibration,
        override=inputs.override,
        partial=partial,
    )
    return RunReport(
        created_at=created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        agent=_agent(results, settings),
        llm_mode=settings.llm_mode,
        shard=shard,
        evalsets=infos,
        cases=list(results),
        classifier_versions=classifier_versions(results),
        policy=policy,
        coverage=inputs.coverage,
        gate=gate,
    )


def exit_code(report: RunReport) -> ExitCode:
    """0: the gate passed (tolerated failures included); 1: it failed and a case
    failed; 6: it failed with every case passing (coverage, baseline, drift, ...)."""
    if report.gate is None or report.gate.passed:
        return ExitCode.OK
    if any(case.outcome is not CaseOutcome.PASSED for case in report.cases):
        return ExitCode.CASES_FAILED
    return ExitCode.GATE_FAILED


def tolerated_cases(report: RunReport) -> list[str]:
    """Cases that did not pass although the gate did: its policy allowed them."""
    if report.gate is None or not report.gate.passed:
        return []
    return [
        f"{c.evalset}/{c.case_id} ({c.outcome.value})"
        for c in report.cases
        if c.outcome is not CaseOutcome.PASSED
    ]
