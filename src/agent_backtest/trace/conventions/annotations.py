"""Labels carried inside spans -> ``Annotation``s.

- OpenInference (``spec/annotations.md``): ``annotations.{i}.annotation.*`` and
  ``evaluations.{i}.evaluation.*``, optionally prefixed ``trace.`` or
  ``session.`` to widen the target; fields ``name``, ``score``, ``label``,
  ``explanation``, ``annotator_kind``, ``identifier``, ``metadata``.
- OTel GenAI ``gen_ai.evaluation.result`` events: ``gen_ai.evaluation.name``,
  ``gen_ai.evaluation.score.value``, ``gen_ai.evaluation.score.label``,
  ``gen_ai.evaluation.explanation`` (and ``error.type`` when the evaluation failed).

Both are judges' verdicts recorded by instrumentation, so the annotator kind is
``llm`` unless the span says otherwise.
"""

from __future__ import annotations

from typing import Any

from agent_backtest.trace.conventions.construct import build
from agent_backtest.trace.conventions.facts import group_indexed
from agent_backtest.trace.conventions.values import as_float, as_str
from agent_backtest.trace.model import Annotation, AnnotationTarget, AnnotatorKind
from agent_backtest.trace.raw import RawEvent, RawSpan

EVALUATION_EVENT = "gen_ai.evaluation.result"
_KINDS = {k.value: k for k in AnnotatorKind}
# prefix -> (target kind, field prefix inside each indexed group)
_FAMILIES = (
    ("annotations.", "span", "annotation."),
    ("evaluations.", "span", "evaluation."),
    ("trace.annotations.", "trace", "annotation."),
    ("trace.evaluations.", "trace", "evaluation."),
    ("session.annotations.", "session", "annotation."),
    ("session.evaluations.", "session", "evaluation."),
)


def from_attributes(raw: RawSpan, keys: list[str], session_id: str | None) -> list[Annotation]:
    attrs = raw.attributes
    out: list[Annotation] = []
    for prefix, scope, field in _FAMILIES:
        family = [k for k in keys if k.startswith(prefix)]
        if not family:
            continue
        for group in group_indexed(attrs, family, len(prefix)):
            name = group.get(field + "name")
            if name is None:
                continue  # the spec makes name required; a nameless result labels nothing
            kind, annotator = _kind(group.get(field + "annotator_kind"))
            out.append(
                build(
                    Annotation,
                    target=_target(raw, scope, session_id),
                    name=str(name),
                    label=as_str(group.get(field + "label")),
                    score=as_float(group.get(field + "score")),
                    explanation=as_str(group.get(field + "explanation")),
                    annotator_kind=kind,
                    annotator=as_str(group.get(field + "identifier")) or annotator,
                    classifier=None,
                    source=f"openinference:{prefix.rstrip('.')}",
                    created_at=None,
                )
            )
    return out


def from_event(raw: RawSpan, event: RawEvent) -> Annotation | None:
    attrs = event.attributes
    name = attrs.get("gen_ai.evaluation.name")
    if name is None:
        return None
    explanation = as_str(attrs.get("gen_ai.evaluation.explanation"))
    error = as_str(attrs.get("error.type"))
    if error is not None and explanation is None:
        explanation = f"evaluation failed: {error}"
    return build(
        Annotation,
        target=_target(raw, "span", None),
        name=str(name),
        label=as_str(attrs.get("gen_ai.evaluation.score.label")),
        score=as_float(attrs.get("gen_ai.evaluation.score.value")),
        explanation=explanation,
        annotator_kind=AnnotatorKind.LLM,
        annotator=None,
        classifier=None,
        source=EVALUATION_EVENT,
        created_at=None,
    )


def _kind(value: Any) -> tuple[AnnotatorKind, str | None]:
    """Known kinds map directly; a custom kind is kept as the annotator's name."""
    if value is None:
        return AnnotatorKind.LLM, None
    text = str(value)
    kind = _KINDS.get(text.lower())
    return (kind, None) if kind is not None else (AnnotatorKind.LLM, text)


def _target(raw: RawSpan, scope: str, session_id: str | None) -> AnnotationTarget:
    return build(
        AnnotationTarget,
        kind=scope,
        trace_id=raw.trace_id,
        span_id=raw.span_id if scope == "span" else None,
        session_id=session_id if scope == "session" else None,
        step=None,
    )
