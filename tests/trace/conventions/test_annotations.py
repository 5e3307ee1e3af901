"""Annotations carried in spans: OpenInference attributes and GenAI evaluation events."""

from __future__ import annotations

from agent_backtest.trace.model import AnnotatorKind
from agent_backtest.trace.raw import RawEvent

from .spans import attrs, decode


def test_openinference_annotations_and_evaluations() -> None:
    decoded = decode(attrs("openinference_annotations.json"))
    by_name = {a.name: a for a in decoded.annotations}
    assert set(by_name) == {"hallucination", "relevance", "outcome", "coherence"}

    hallucination = by_name["hallucination"]
    assert hallucination.label == "hallucinated"
    assert hallucination.score == 1.0
    assert hallucination.explanation is not None
    assert hallucination.annotator_kind is AnnotatorKind.LLM
    assert hallucination.annotator == "judge-v2"
    assert hallucination.target.kind == "span"
    assert hallucination.target.span_id == "b7ad6b7169203331"

    assert by_name["relevance"].annotator_kind is AnnotatorKind.HUMAN
    assert by_name["relevance"].score == 0.95
    assert by_name["outcome"].target.kind == "trace"
    assert by_name["outcome"].target.span_id is None
    coherence = by_name["coherence"]
    assert (coherence.target.kind, coherence.target.session_id) == ("session", "sess-9")
    assert coherence.annotator_kind is AnnotatorKind.CODE


def test_genai_evaluation_result_event() -> None:
    event = RawEvent(
        name="gen_ai.evaluation.result",
        time_ns=3_000,
        attributes={
            "gen_ai.evaluation.name": "relevance",
            "gen_ai.evaluation.score.value": 0.2,
            "gen_ai.evaluation.score.label": "not_relevant",
            "gen_ai.evaluation.explanation": "Answers a different question.",
        },
    )
    decoded = decode({"gen_ai.operation.name": "chat"}, events=[event])
    [annotation] = decoded.annotations
    assert annotation.name == "relevance"
    assert annotation.label == "not_relevant"
    assert annotation.score == 0.2
    assert annotation.explanation == "Answers a different question."
    assert annotation.annotator_kind is AnnotatorKind.LLM
    assert annotation.target.kind == "span"
    assert annotation.target.span_id == "b7ad6b7169203331"
    assert annotation.source == "gen_ai.evaluation.result"


def test_evaluation_event_without_name_is_ignored() -> None:
    event = RawEvent(name="gen_ai.evaluation.result", time_ns=None, attributes={"x": 1})
    assert decode({}, events=[event]).annotations == []


def test_spans_without_annotations_have_none() -> None:
    assert (
        decode(attrs("openinference/openinference_client_span_tool_calls.json")).annotations == []
    )
