"""Classifier drift per case: production's labelling versions vs the versions the run used."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent_backtest.evalset.case import (
    Case,
    CaseAnnotation,
    CaseInput,
    CaseMessage,
    CaseSource,
    Expectations,
)
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases
from agent_backtest.scoring.registry import get_classifier
from agent_backtest.trace.model import AnnotatorKind


def _label(classifier: str) -> CaseAnnotation:
    return CaseAnnotation(
        name="failure_mode",
        label="detected",
        annotator_kind=AnnotatorKind.CODE,
        classifier=classifier,
    )


def _run(tmp_path: Path, agent: str, *annotations: CaseAnnotation) -> CaseResult:
    case = Case(
        id="labelled",
        title="labelled in production",
        source=CaseSource(trace_id="t1"),
        annotations=list(annotations),
        input=CaseInput(messages=[CaseMessage(role="user", content="hi")]),
        expect=Expectations(not_detected=["step_repetition", "truncation"]),
    )
    job = CaseJob(case, EvalSetConfig(name="support"), tmp_path, f"tests.replay.update_bot:{agent}")
    (result,) = asyncio.run(run_cases([job], RunOptions()))
    return result


def test_a_classifier_at_another_version_than_production_is_reported(tmp_path: Path) -> None:
    current = get_classifier("step_repetition").version
    result = _run(
        tmp_path,
        "idle",
        _label("step_repetition@0-old"),
        _label("step_repetition@0-old"),  # one line per classifier and version, not per label
        _label(f"truncation@{get_classifier('truncation').version}"),  # same version: no drift
        _label("task_outcome@abc123"),  # labelled production, but this run did not use it
        _label("tool_error_rate"),  # no version recorded: nothing to compare
    )
    assert result.outcome is CaseOutcome.PASSED
    assert result.drift == [f"step_repetition: labelled at 0-old, ran {current}"]
    assert f"classifier drift: step_repetition: labelled at 0-old, ran {current}" in (
        result.render()
    )
    assert CaseResult.from_json(result.to_json()).drift == result.drift


def test_no_drift_when_every_version_matches(tmp_path: Path) -> None:
    version = get_classifier("step_repetition").version
    result = _run(tmp_path, "idle", _label(f"step_repetition@{version}"))
    assert result.drift == []
    assert "classifier drift" not in result.render()


def test_an_errored_run_still_reports_drift_from_the_resolved_classifiers(tmp_path: Path) -> None:
    result = _run(tmp_path, "boom", _label("truncation@0-old"))
    assert result.outcome is CaseOutcome.ERROR
    assert result.runs[0].verdicts == []  # nothing was scored...
    current = get_classifier("truncation").version
    assert result.drift == [f"truncation: labelled at 0-old, ran {current}"]  # ...drift is known
