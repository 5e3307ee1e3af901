from __future__ import annotations

import pytest

from agent_backtest.errors import ConfigError
from agent_backtest.promote.modes import LabelMap
from agent_backtest.promote.select import (
    AnnotationFilter,
    ScoreBelow,
    Selection,
    parse_time,
)
from agent_backtest.trace.model import Annotation, AnnotationTarget, Trace
from tests.promote.factory import T0, make_trace

DAY = 86_400 * 10**9


def _ann(name: str, label: str | None = None, score: float | None = None) -> Annotation:
    return Annotation(target=AnnotationTarget(), name=name, label=label, score=score)


def _ids(selection: Selection, traces: list[Trace]) -> list[str]:
    return [t.trace_id for t in selection.select(traces)]


@pytest.fixture
def traces() -> list[Trace]:
    return [
        make_trace("t1", label="step_repetition", session_id="s1", start_ns=T0),
        make_trace("t2", label="looped", session_id="s2", start_ns=T0 + DAY),
        make_trace(
            "t3",
            label=None,
            session_id="s1",
            start_ns=T0 + 2 * DAY,
            extra_annotations=(_ann("helpfulness", score=0.2), _ann("context_overflow", "yes")),
        ),
    ]


def test_no_filters_selects_everything_in_input_order(traces: list[Trace]) -> None:
    assert _ids(Selection(), traces) == ["t1", "t2", "t3"]


def test_annotation_name_and_label(traces: list[Trace]) -> None:
    assert _ids(Selection(annotations=[AnnotationFilter.parse("failure_mode")]), traces) == [
        "t1",
        "t2",
    ]
    by_label = Selection(annotations=[AnnotationFilter.parse("failure_mode=looped")])
    assert _ids(by_label, traces) == ["t2"]


def test_failure_mode_uses_the_label_map(traces: list[Trace]) -> None:
    plain = Selection(failure_modes=["step_repetition"])
    assert _ids(plain, traces) == ["t1"]
    mapped = Selection(
        failure_modes=["step_repetition"],
        label_map=LabelMap.from_mapping({"failure_mode=looped": "step_repetition"}),
    )
    assert _ids(mapped, traces) == ["t1", "t2"]
    # An annotation named after a mode with a positive label names that mode.
    assert _ids(Selection(failure_modes=["context_overflow"]), traces) == ["t3"]


def test_score_below_trace_session_and_time(traces: list[Trace]) -> None:
    assert _ids(Selection(score_below=[ScoreBelow.parse("helpfulness=0.5")]), traces) == ["t3"]
    assert _ids(Selection(score_below=[ScoreBelow.parse("helpfulness=0.2")]), traces) == []
    assert _ids(Selection(trace_ids=frozenset({"t2", "zz"})), traces) == ["t2"]
    assert _ids(Selection(sessions=frozenset({"s1"})), traces) == ["t1", "t3"]
    since = parse_time("2025-05-01", end_of_day=False, flag="--since")
    until = parse_time("2025-05-01", end_of_day=True, flag="--until")
    assert _ids(Selection(since=since, until=until), traces) == ["t2"]
    assert _ids(Selection(since=since), traces) == ["t2", "t3"]
    assert _ids(Selection(limit=2), traces) == ["t1", "t2"]


def test_filters_combine_with_and(traces: list[Trace]) -> None:
    selection = Selection(
        sessions=frozenset({"s1"}), annotations=[AnnotationFilter("failure_mode")]
    )
    assert _ids(selection, traces) == ["t1"]
    assert selection.why_not(traces[2]) == "no matching annotation"


def test_sampling_is_deterministic_per_seed_and_independent_of_order() -> None:
    many = [make_trace(f"{i:032x}") for i in range(400)]
    first = _ids(Selection(sample=0.25, seed=7), many)
    assert first == _ids(Selection(sample=0.25, seed=7), many)
    assert sorted(first) == sorted(_ids(Selection(sample=0.25, seed=7), many[::-1]))
    assert first != _ids(Selection(sample=0.25, seed=8), many)
    assert 60 < len(first) < 140
    # A bigger fraction keeps everything the smaller one kept (same seed).
    assert set(first) <= set(_ids(Selection(sample=0.5, seed=7), many))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Selection(sample=0.0), "outside"),
        (lambda: Selection(sample=1.5), "outside"),
        (lambda: Selection(limit=0), "at least 1"),
        (lambda: Selection(failure_modes=["looping"]), "unknown failure mode"),
        (lambda: ScoreBelow.parse("helpfulness"), "NAME=NUMBER"),
        (lambda: ScoreBelow.parse("helpfulness=high"), "NAME=NUMBER"),
        (lambda: AnnotationFilter.parse("=x"), "empty name"),
        (lambda: parse_time("yesterday", end_of_day=False, flag="--since"), "ISO date"),
        (lambda: LabelMap.from_mapping({"looped": "looping"}), "unknown failure mode"),
    ],
)
def test_bad_selection_is_a_config_error(make: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()  # type: ignore[operator]
