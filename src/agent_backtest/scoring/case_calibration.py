"""Calibration and drift over an evalset's cases, from the labels the cases carry.

Promoted cases keep every annotation that flagged them in production: human
labels and the labels classifiers produced (with ``id@version``). Comparing the
two per classifier says whether the classifier agrees with people (agreement,
Cohen's kappa, confusion matrix); comparing the recorded version with the
repository's says whether the classifier has drifted since it labelled them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agent_backtest.evalset.case import Case, CaseAnnotation
from agent_backtest.scoring.calibrate import Calibration, calibrate
from agent_backtest.trace.model import AnnotatorKind

DETECTED, NOT_DETECTED = "detected", "not_detected"


@dataclass(frozen=True)
class Drift:
    case_id: str
    classifier: str
    recorded_version: str
    current_version: str

    def describe(self) -> str:
        return (
            f"{self.case_id}: {self.classifier} labelled it at version {self.recorded_version}, "
            f"the repository has {self.current_version}"
        )


def _split_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    return name, version or None


def _human_label(case: Case, classifier_id: str, name: str, failure_mode: str | None) -> str | None:
    """What people said about the thing the classifier judges, on this case."""
    humans = [a for a in case.annotations if a.annotator_kind is AnnotatorKind.HUMAN]
    for annotation in humans:
        if annotation.name in (name, classifier_id) and annotation.label is not None:
            return annotation.label
    if failure_mode is not None and humans:
        # Detectors judge one failure mode: people flagged it or they did not.
        flagged = {a.label for a in humans} | set(case.failure_modes)
        return DETECTED if failure_mode in flagged else NOT_DETECTED
    return None


def classifier_annotations(cases: Iterable[Case]) -> dict[str, list[tuple[Case, CaseAnnotation]]]:
    """Classifier-made annotations on the cases, grouped by classifier id."""
    grouped: dict[str, list[tuple[Case, CaseAnnotation]]] = {}
    for case in cases:
        for annotation in case.annotations:
            if annotation.classifier:
                classifier_id, _ = _split_ref(annotation.classifier)
                grouped.setdefault(classifier_id, []).append((case, annotation))
    return grouped


def calibrate_cases(
    cases: Iterable[Case],
    failure_mode_of: Callable[[str], str | None] = lambda _: None,
) -> list[Calibration]:
    """One calibration per classifier that labelled any of the cases."""
    results = []
    for classifier_id, labelled in sorted(classifier_annotations(cases).items()):
        mode = failure_mode_of(classifier_id)
        pairs = [
            (human, annotation.label)
            for case, annotation in labelled
            if (human := _human_label(case, classifier_id, annotation.name, mode)) is not None
        ]
        results.append(calibrate(classifier_id, pairs))
    return results


def find_drift(cases: Iterable[Case], current_version: Callable[[str], str | None]) -> list[Drift]:
    """Cases labelled by a classifier version other than the repository's."""
    drifts = []
    for classifier_id, labelled in sorted(classifier_annotations(cases).items()):
        current = current_version(classifier_id)
        if current is None:
            continue
        for case, annotation in labelled:
            _, recorded = _split_ref(annotation.classifier or "")
            if recorded is not None and recorded != current:
                drifts.append(Drift(case.id, classifier_id, recorded, current))
    return drifts
