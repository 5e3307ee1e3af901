"""``backtest calibrate``: do the classifiers agree with people on the promoted cases?"""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent_backtest.cli.cases import _cache_dir, resolve_evalset_dirs
from agent_backtest.errors import BacktestError
from agent_backtest.evalset.evalset import load_evalset
from agent_backtest.scoring.calibrate import format_calibration, meets_threshold
from agent_backtest.scoring.case_calibration import calibrate_cases, find_drift
from agent_backtest.scoring.judge_definition import JudgeDefinition, load_judges
from agent_backtest.scoring.registry import get_classifier


class _Known:
    """Current versions and failure modes of classifiers: YAML judges, then the registry."""

    def __init__(self, judges: dict[str, JudgeDefinition]) -> None:
        self.judges = judges

    def version(self, classifier_id: str) -> str | None:
        if classifier_id in self.judges:
            return self.judges[classifier_id].version
        try:
            return str(get_classifier(classifier_id).version)
        except BacktestError:
            return None

    def failure_mode(self, classifier_id: str) -> str | None:
        if classifier_id in self.judges:
            return self.judges[classifier_id].failure_mode
        try:
            mode = getattr(get_classifier(classifier_id), "failure_mode", None)
        except BacktestError:
            return None
        return str(mode) if mode else None


@click.command("calibrate")
@click.argument("evalset_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--classifiers-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of YAML judges [default: ./classifiers when it exists].",
)
@click.option(
    "--min-kappa",
    type=click.FloatRange(-1, 1),
    default=None,
    help="Exit 1 when a classifier's Cohen's kappa is below this (the gate's calibration threshold).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calibrate_command(
    evalset_dir: Path | None, classifiers_dir: Path | None, min_kappa: float | None, as_json: bool
) -> None:
    """Agreement, Cohen's kappa and confusion matrix of each classifier against the
    human labels on the promoted cases, and any classifier drift since they were labelled."""
    folder = resolve_evalset_dirs(evalset_dir)[0]
    evalset = load_evalset(folder, _cache_dir())
    judges_dir = classifiers_dir or Path("classifiers")
    judges = load_judges(judges_dir) if classifiers_dir or judges_dir.is_dir() else {}
    known = _Known(judges)
    results = calibrate_cases(evalset.cases, known.failure_mode)
    drifts = find_drift(evalset.cases, known.version)
    failing = [
        r.classifier
        for r in results
        if min_kappa is not None and not meets_threshold(r, min_kappa=min_kappa)
    ]
    if as_json:
        payload = {
            "evalset": evalset.name,
            "classifiers": [
                {
                    "classifier": r.classifier,
                    "pairs": r.n,
                    "errors": r.errors,
                    "agreement": r.agreement,
                    "kappa": r.kappa,
                    "labels": r.labels,
                    "confusion": r.matrix,
                }
                for r in results
            ],
            "drift": [d.__dict__ for d in drifts],
            "below_min_kappa": failing,
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        if not results:
            click.echo(
                f"{evalset.name}: no case carries a classifier label to compare with human labels"
            )
        for result in results:
            click.echo(format_calibration(result))
        for drift in drifts:
            click.echo(f"classifier drift: {drift.describe()}")
        if failing:
            click.echo(f"below --min-kappa {min_kappa}: {', '.join(failing)}", err=True)
    if failing:
        raise SystemExit(1)
