"""Every built-in detector over real normalized JSONL, read the way `backtest score` reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest import read_traces
from agent_backtest.scoring.classify import classify_trace, verdicts_to_annotations
from agent_backtest.scoring.detectors import BUILTIN_DETECTORS
from agent_backtest.scoring.verdict import Verdict

FIXTURE = Path(__file__).parent.parent / "fixtures" / "detectors" / "support_runs.jsonl"

# trace id -> {detector: evidence span ids}; every detector not listed must pass.
EXPECTED: dict[str, dict[str, list[str]]] = {
    "loop-and-hide": {
        "step_repetition": [f"tool-lookup-{i}" for i in range(1, 5)],
        "cascading_retries": [f"tool-lookup-{i}" for i in range(1, 5)],
        "tool_error_rate": [f"tool-lookup-{i}" for i in range(1, 5)],
        "silent_tool_failure": ["tool-lookup-4", "llm-5"],
    },
    "clean": {},
    "invented-id": {
        "hallucinated_tool_input": ["tool-cancel-1"],
        "truncation": ["llm-2"],
    },
}


@pytest.fixture(scope="module")
def verdicts() -> dict[str, list[Verdict]]:
    traces = read_traces(FIXTURE)
    return {t.trace_id: classify_trace(t, list(BUILTIN_DETECTORS)) for t in traces}


@pytest.mark.parametrize("trace_id", list(EXPECTED))
def test_detections_and_evidence_on_the_fixture(
    verdicts: dict[str, list[Verdict]], trace_id: str
) -> None:
    found = {v.classifier: v.evidence for v in verdicts[trace_id] if not v.passed}
    assert found == EXPECTED[trace_id]


def test_reasons_carry_the_numbers(verdicts: dict[str, list[Verdict]]) -> None:
    by_id = {v.classifier: v for v in verdicts["loop-and-hide"]}
    assert by_id["step_repetition"].reason == (
        'lookup_order called 4 times in a row with identical arguments {"order_id": "ORD-1843"}'
    )
    assert by_id["tool_error_rate"].reason.startswith("4 of 4 tool calls failed (100%)")


def test_annotations_from_the_fixture_round_trip(verdicts: dict[str, list[Verdict]]) -> None:
    (trace,) = [t for t in read_traces(FIXTURE) if t.trace_id == "invented-id"]
    notes = verdicts_to_annotations(trace, verdicts["invented-id"], evidence_spans=False)
    assert len(notes) == len(BUILTIN_DETECTORS)
    detected = {n.name for n in notes if n.label == "detected"}
    assert detected == {"hallucinated_tool_input", "truncation"}
    assert all(n.classifier == f"{n.name}@1" for n in notes)
