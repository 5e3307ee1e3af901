"""Counting production failure modes, the coverage.json contract, and cases per mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_backtest.errors import ConfigError, InputError
from agent_backtest.gate.coverage import (
    COVERAGE_FILE,
    cases_per_mode,
    count_failure_modes,
    evalsets_label_map,
    read_coverage,
    weighted_coverage,
    write_coverage,
)
from agent_backtest.gate.model import CoverageSnapshot, ModeFrequency
from agent_backtest.promote.modes import LabelMap
from agent_backtest.trace.api import read_traces
from agent_backtest.trace.model import Annotation, AnnotationTarget, Trace
from tests.gate.prod_traces import HOUR, T0, write_evalset, write_export


def _trace(n: int, *labels: tuple[str, str]) -> Trace:
    trace_id = f"{n:032x}"
    return Trace(
        trace_id=trace_id,
        start_ns=T0 + n * HOUR,
        annotations=[
            Annotation(target=AnnotationTarget(trace_id=trace_id), name=name, label=label)
            for name, label in labels
        ],
    )


def test_each_trace_counts_once_per_mode_with_share_and_last_seen() -> None:
    traces = [
        _trace(1, ("failure_mode", "step_repetition")),
        # Two annotations naming one mode (a human and a classifier) are one occurrence.
        _trace(2, ("failure_mode", "step_repetition"), ("step_repetition", "detected")),
        _trace(3, ("failure_mode", "looped"), ("failure_mode", "truncation")),
        _trace(4, ("outcome", "resolved")),
    ]
    labels = LabelMap.from_mapping({"looped": "step_repetition"})
    snapshot = count_failure_modes(
        traces, labels, sources=["prod.jsonl"], generated_at="2025-05-01T00:00:00Z"
    )
    assert snapshot.traces == 4
    assert snapshot.sources == ["prod.jsonl"]
    assert [(m.mode, m.count, m.share, m.last_seen) for m in snapshot.modes] == [
        ("step_repetition", 3, 0.75, "2025-04-30T11:00:00Z"),
        ("truncation", 1, 0.25, "2025-04-30T11:00:00Z"),
    ]


def test_ties_are_ordered_by_name_whatever_the_input_order() -> None:
    traces = [_trace(1, ("failure_mode", "truncation")), _trace(2, ("failure_mode", "cost_blowup"))]
    first = count_failure_modes(traces, generated_at="x")
    second = count_failure_modes(traces[::-1], generated_at="x")
    assert [m.mode for m in first.modes] == ["cost_blowup", "truncation"]
    assert first == second


def test_counting_real_files_matches_promotes_label_mapping(tmp_path: Path) -> None:
    files = write_export(tmp_path, {"looped": 6, "cost_blowup": 3, "tone": 2, None: 9})
    labels = LabelMap.from_mapping({"looped": "step_repetition"})
    snapshot = count_failure_modes(read_traces(files), labels)
    assert snapshot.traces == 20
    assert {m.mode: m.count for m in snapshot.modes} == {"step_repetition": 6, "cost_blowup": 3}


def test_write_then_read_is_the_same_snapshot_in_stable_bytes(tmp_path: Path) -> None:
    snapshot = CoverageSnapshot(
        generated_at="2025-05-01T00:00:00Z",
        sources=["prod.jsonl"],
        traces=10,
        modes=[ModeFrequency(mode="step_repetition", count=3, share=0.3, last_seen=None)],
    )
    path = tmp_path / "evalsets" / COVERAGE_FILE
    write_coverage(snapshot, path)
    first = path.read_bytes()
    assert read_coverage(path) == snapshot
    write_coverage(snapshot, path)
    assert path.read_bytes() == first
    body = json.loads(first)
    assert list(body) == ["schema", "generated_at", "sources", "traces", "modes"]
    assert body["schema"] == "agent-backtest/coverage@1"
    assert first.endswith(b"}\n")
    assert [p.name for p in path.parent.iterdir()] == [COVERAGE_FILE]  # no temp file left


def test_a_missing_snapshot_is_none(tmp_path: Path) -> None:
    assert read_coverage(tmp_path / COVERAGE_FILE) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"schema": "agent-backtest/coverage@1",\n  "traces": }',
            "coverage.json:2: not valid JSON",
        ),
        (
            '{"schema": "agent-backtest/coverage@9", "traces": 1}',
            "schema is 'agent-backtest/coverage@9'",
        ),
        ("[1, 2]", "schema is None, expected 'agent-backtest/coverage@1'"),
        (
            '{"schema": "agent-backtest/coverage@1", "generated_at": "x", "traces": "many"}',
            "coverage.json at traces: Input should be a valid integer",
        ),
    ],
)
def test_a_broken_snapshot_is_one_line_naming_the_file_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / COVERAGE_FILE
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_coverage(path)
    line = caught.value.one_line()
    assert line.startswith(str(path.parent))
    assert message in line
    assert "backtest coverage" in line
    assert "\n" not in line


def test_cases_per_mode_counts_every_evalset_under_the_folder(tmp_path: Path) -> None:
    evalsets = tmp_path / "evalsets"
    write_evalset(
        evalsets / "support",
        {"loop-1": ["step_repetition"], "loop-2": ["step_repetition", "cascading_retries"]},
    )
    write_evalset(
        evalsets / "billing", {"refund-1": ["hallucinated_tool_input", "step_repetition"]}
    )
    (evalsets / "notes").mkdir()  # not an evalset: no evalset.yaml
    expected = {"cascading_retries": 1, "hallucinated_tool_input": 1, "step_repetition": 3}
    assert cases_per_mode(evalsets) == expected
    assert cases_per_mode([evalsets / "support", evalsets / "billing"]) == expected
    assert cases_per_mode(evalsets / "billing") == {
        "hallucinated_tool_input": 1,
        "step_repetition": 1,
    }
    assert cases_per_mode(tmp_path / "nowhere") == {}


def test_label_maps_of_several_evalsets_combine_and_conflicts_are_errors(tmp_path: Path) -> None:
    first = write_evalset(tmp_path / "a", {}, labels={"looped": "step_repetition"})
    second = write_evalset(tmp_path / "b", {}, labels={"made_up": "hallucinated_tool_input"})
    labels = evalsets_label_map([first, second], {"tone": "cost_blowup"})
    assert labels.mapping == {
        "looped": "step_repetition",
        "made_up": "hallucinated_tool_input",
        "tone": "cost_blowup",
    }
    third = write_evalset(tmp_path / "c", {}, labels={"looped": "cascading_retries"})
    with pytest.raises(ConfigError) as caught:
        evalsets_label_map([first, third])
    assert "failure_mode_labels 'looped' maps to 'cascading_retries' here" in str(caught.value)
    assert str(third / "evalset.yaml") in str(caught.value)


def test_weighted_coverage_weighs_modes_by_production_count() -> None:
    snapshot = CoverageSnapshot(
        generated_at="x",
        traces=100,
        modes=[
            ModeFrequency(mode="step_repetition", count=60, share=0.6),
            ModeFrequency(mode="truncation", count=30, share=0.3),
            ModeFrequency(mode="cost_blowup", count=10, share=0.1),
        ],
    )
    assert weighted_coverage(snapshot, {"step_repetition": 1, "cost_blowup": 1}, 1) == 0.7
    assert weighted_coverage(snapshot, {"step_repetition": 1, "cost_blowup": 2}, 2) == 0.1
    empty = CoverageSnapshot(generated_at="x", traces=5)
    assert weighted_coverage(empty, {}, 1) == 1.0
