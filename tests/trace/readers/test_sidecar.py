"""Sidecar annotation JSONL: labels kept elsewhere attach to traces from other files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_backtest.errors import InputError
from agent_backtest.trace.api import TraceStream, read_traces
from agent_backtest.trace.model import AnnotatorKind
from agent_backtest.trace.registry import detect_format

FIXTURES = Path(__file__).parents[2] / "fixtures"
LABELS = FIXTURES / "annotations" / "labels.jsonl"
PHOENIX_SPANS = FIXTURES / "traces" / "phoenix" / "spans.jsonl"
LANGFUSE_DETAIL = FIXTURES / "traces" / "langfuse" / "trace_detail.json"
TRACE_A = "6c0e2d1f9a8b47c3b2e1d0f9a8b7c6d5"
TRACE_B = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def test_detected_by_content() -> None:
    assert detect_format(LABELS) == "sidecar"


def test_labels_in_one_file_attach_to_traces_from_others() -> None:
    # The sidecar file is listed last and still attaches: annotation-only files are read first.
    stream = TraceStream([PHOENIX_SPANS, LANGFUSE_DETAIL, LABELS])
    traces = {t.trace_id: t for t in stream}
    assert stream.unattached_annotations == []
    [tool_label] = [a for a in traces[TRACE_A].annotations if a.source == "sidecar"]
    # Upper-case hex in the sidecar matches the lower-case ids the span readers produce.
    assert (tool_label.target.kind, tool_label.target.trace_id, tool_label.target.span_id) == (
        "span",
        TRACE_A,
        "c3d4e5f607182930",
    )
    assert (tool_label.name, tool_label.score, tool_label.label) == ("tool_args_ok", 0.0, None)
    assert (tool_label.annotator_kind, tool_label.annotator) == (
        AnnotatorKind.CODE,
        "args-checker@2",
    )
    [outcome] = traces[TRACE_B].annotations
    assert (outcome.label, outcome.score, outcome.annotator_kind) == (
        "error",
        0.0,
        AnnotatorKind.LLM,
    )
    langfuse = traces["cm8a1x2yz0001qv08abcd1234"]
    [human] = [a for a in langfuse.annotations if a.source == "sidecar"]
    assert human.target.kind == "trace"
    assert (human.label, human.annotator, human.created_at) == (
        "hallucinated_tool_input",
        "ana@example.com",
        "2025-03-15T08:00:00Z",
    )
    assert human.annotator_kind is AnnotatorKind.HUMAN


def test_labels_for_traces_not_in_the_input_are_reported_unattached() -> None:
    stream = TraceStream([PHOENIX_SPANS, LABELS])
    list(stream)
    assert [a.target.trace_id for a in stream.unattached_annotations] == [
        "cm8a1x2yz0001qv08abcd1234"
    ]


def _write(tmp_path: Path, *records: Any) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


GOOD = {"trace_id": TRACE_A, "name": "outcome", "label": "fail"}


@pytest.mark.parametrize(
    ("bad", "field", "what"),
    [
        ({"trace_id": TRACE_A, "label": "fail"}, "name", "missing 'name'"),
        ({"trace_id": TRACE_A, "name": "outcome"}, "label", "neither 'label' nor 'score'"),
        ({**GOOD, "lable": "typo"}, "lable", "unknown key 'lable'"),
        ({**GOOD, "score": "0.5"}, "score", "expected a number"),
        ({**GOOD, "annotator_kind": "robot"}, "annotator_kind", "unknown annotator_kind"),
        ({"name": "outcome", "label": "fail"}, "trace_id", "no target"),
    ],
)
def test_a_bad_line_names_file_line_and_field(
    tmp_path: Path, bad: dict[str, Any], field: str, what: str
) -> None:
    path = _write(tmp_path, GOOD, bad)
    with pytest.raises(InputError) as info:
        read_traces([PHOENIX_SPANS, path])
    assert (info.value.where.path, info.value.where.line, info.value.where.field) == (
        path,
        2,
        field,
    )
    assert what in info.value.what


def test_skip_invalid_keeps_the_good_lines_and_counts_the_bad(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD, {"trace_id": TRACE_A, "name": "x"}, {**GOOD, "label": "ok"})
    traces = {t.trace_id: t for t in read_traces([PHOENIX_SPANS, path], skip_invalid=True)}
    assert [a.label for a in traces[TRACE_A].annotations] == ["fail", "ok"]
    stream = TraceStream([path], format="sidecar")
    stream.options.skip_invalid = True
    list(stream)
    assert stream.reports[0].skipped.count == 1


@pytest.mark.parametrize(
    "first",
    [
        # Phoenix REST annotation: has "result", so not sidecar.
        {"span_id": "c3d4e5f607182930", "name": "x", "annotator_kind": "HUMAN", "result": {}},
        # Extra span-like keys.
        {**GOOD, "start_time": 1, "attributes": {}},
        # No label or score.
        {"trace_id": TRACE_A, "name": "outcome"},
    ],
)
def test_sniff_leaves_other_shapes_alone(tmp_path: Path, first: dict[str, Any]) -> None:
    path = _write(tmp_path, first)
    try:
        detected = detect_format(path)
    except InputError:
        detected = None
    assert detected != "sidecar"
