"""Running classifiers over a trace from Python, and keeping their verdicts as annotations.

The production side (``backtest score``, or an online hook in a service) and CI
use the same two calls: ``classify_trace`` for verdicts, then
``verdicts_to_annotations`` to store them as ``Annotation`` records that the
trace readers can attach to traces again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent_backtest.errors import BacktestError
from agent_backtest.scoring.detectors import BUILTIN_DETECTORS
from agent_backtest.scoring.registry import get_classifier
from agent_backtest.scoring.verdict import Classifier, Outcome, Verdict
from agent_backtest.trace.model import Annotation, AnnotationTarget, AnnotatorKind, Trace


def resolve(classifiers: Iterable[Classifier | str]) -> list[Classifier]:
    """Classifier objects for a mix of objects and names (``id`` or ``id@version``)."""
    return [get_classifier(c) if isinstance(c, str) else c for c in classifiers]


def classify_trace(trace: Trace, classifiers: Iterable[Classifier | str]) -> list[Verdict]:
    """One verdict per classifier, in the order given.

    A classifier that raises a ``BacktestError`` (a judge out of retries, a
    budget cap) gives an ``error`` verdict for this trace instead of stopping the
    batch: an error is never a pass, and the other verdicts are still worth
    having. Any other exception is a bug and propagates.
    """
    verdicts: list[Verdict] = []
    for classifier in resolve(classifiers):
        try:
            verdicts.append(classifier.classify(trace))
        except BacktestError as exc:
            verdicts.append(
                Verdict(
                    classifier=classifier.id,
                    version=classifier.version,
                    outcome=Outcome.ERROR,
                    reason=exc.one_line(),
                    failure_mode=getattr(classifier, "failure_mode", None) or None,
                )
            )
    return verdicts


def annotator_kind(classifier: Classifier | None, classifier_id: str) -> AnnotatorKind:
    """``code`` for rules, ``llm`` for judges: from the classifier's ``annotator_kind``
    attribute when it has one, else by whether the id is a built-in detector."""
    declared = getattr(classifier, "annotator_kind", None)
    if isinstance(declared, AnnotatorKind):
        return declared
    return AnnotatorKind.CODE if classifier_id in BUILTIN_DETECTORS else AnnotatorKind.LLM


def verdicts_to_annotations(
    trace: Trace,
    verdicts: Sequence[Verdict],
    *,
    classifiers: Sequence[Classifier] = (),
    source: str | None = "agent-backtest",
    created_at: str | None = None,
    evidence_spans: bool = True,
) -> list[Annotation]:
    """Annotations for ``verdicts`` on ``trace``.

    Each verdict gives one trace-level annotation named after the classifier id,
    with its label, value (as ``score``), reason (as ``explanation``) and
    ``classifier="id@version"``, so a later run can tell which version labelled
    the trace. With ``evidence_spans`` (default), each evidence span also gets a
    span-level annotation with the same name and label: the annotation model has
    no evidence field, and this keeps the evidence when the JSONL is read back.
    ``classifiers`` (the objects that produced the verdicts) decide
    ``annotator_kind``; see ``annotator_kind``.
    """
    by_id = {c.id: c for c in classifiers}
    out: list[Annotation] = []
    for verdict in verdicts:
        kind = annotator_kind(by_id.get(verdict.classifier), verdict.classifier)
        label = verdict.label if verdict.label is not None else verdict.outcome.value
        on_trace = Annotation(
            target=AnnotationTarget(kind="trace", trace_id=trace.trace_id),
            name=verdict.classifier,
            label=label,
            score=verdict.value,
            explanation=verdict.reason,
            annotator_kind=kind,
            annotator=verdict.classifier,
            classifier=verdict.ref,
            source=source,
            created_at=created_at,
        )
        out.append(on_trace)
        if evidence_spans:
            out.extend(
                on_trace.model_copy(
                    update={
                        "target": AnnotationTarget(
                            kind="span", trace_id=trace.trace_id, span_id=span_id
                        )
                    }
                )
                for span_id in verdict.evidence
            )
    return out
