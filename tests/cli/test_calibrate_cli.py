from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from agent_backtest.cli.main import cli
from agent_backtest.evalset.case import CaseAnnotation
from agent_backtest.evalset.storage import load_case, write_case
from agent_backtest.trace.model import AnnotatorKind

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "evalsets" / "support-agent"


def _evalset_with_a_disagreement(tmp_path: Path) -> Path:
    root = tmp_path / "support-agent"
    shutil.copytree(FIXTURE, root)
    path = root / "cases" / "invents-refund-amount-9be41d.yaml"
    case = load_case(path)
    assert "step_repetition" not in case.failure_modes
    case.annotations.append(
        CaseAnnotation(
            name="step_repetition",
            label="detected",
            annotator_kind=AnnotatorKind.CODE,
            classifier="step_repetition@1",
        )
    )
    write_case(case, path)
    return root


def test_calibrate_compares_classifier_labels_with_human_labels(tmp_path: Path) -> None:
    root = _evalset_with_a_disagreement(tmp_path)
    result = CliRunner().invoke(cli, ["calibrate", str(root), "--json"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["classifiers"]
    assert entry["classifier"] == "step_repetition"
    assert entry["pairs"] == 2
    assert entry["agreement"] == 0.5
    assert entry["kappa"] == 0.0
    assert entry["confusion"] == {
        "detected": {"detected": 1, "not_detected": 0},
        "not_detected": {"detected": 1, "not_detected": 0},
    }


def test_calibrate_reports_drift_and_enforces_min_kappa(tmp_path: Path) -> None:
    root = _evalset_with_a_disagreement(tmp_path)
    result = CliRunner().invoke(cli, ["calibrate", str(root), "--min-kappa", "0.6"])
    assert result.exit_code == 1
    assert (
        "classifier drift: loops-on-lookup-order-3f9a2c: step_repetition labelled it at version 1.2.0"
        in result.stdout
    )
    assert "below --min-kappa 0.6: step_repetition" in result.stderr
