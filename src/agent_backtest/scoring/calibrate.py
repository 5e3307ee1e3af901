"""Calibration: how far a classifier's labels agree with human labels on the same traces.

Pure functions over ``(human_label, classifier_label)`` pairs; a classifier label
of ``None`` is an error verdict, counted separately and left out of the
statistics (an error is not a disagreement, and not an agreement either).

- agreement: share of pairs with the same label;
- Cohen's kappa: agreement corrected for chance, ``(p_o - p_e) / (1 - p_e)``,
  where ``p_e`` sums, over labels, the product of how often each rater uses it;
  1 is perfect, 0 is coin-level, negative is worse than chance;
- confusion matrix: ``matrix[human][classifier]`` counts.

``meets_threshold`` is the check a gate policy can enforce (e.g. kappa >= 0.6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Calibration:
    classifier: str
    labels: list[str]
    matrix: dict[str, dict[str, int]]  # human label -> classifier label -> count
    n: int  # pairs used (errors excluded)
    errors: int
    agreement: float
    kappa: float


def _usable(pairs: Iterable[tuple[str, str | None]]) -> tuple[list[tuple[str, str]], int]:
    usable: list[tuple[str, str]] = []
    errors = 0
    for human, machine in pairs:
        if machine is None:
            errors += 1
        else:
            usable.append((human, machine))
    return usable, errors


def agreement(pairs: Sequence[tuple[str, str]]) -> float:
    if not pairs:
        return 0.0
    return sum(h == m for h, m in pairs) / len(pairs)


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's kappa for two raters; 1.0 when both always use one and the same label."""
    n = len(pairs)
    if n == 0:
        return 0.0
    observed = agreement(pairs)
    humans = Counter(h for h, _ in pairs)
    machines = Counter(m for _, m in pairs)
    expected = sum(humans[label] * machines[label] for label in humans) / (n * n)
    if expected >= 1.0:  # both raters used a single, identical label: nothing to correct
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def confusion_matrix(
    pairs: Sequence[tuple[str, str]], labels: Sequence[str] | None = None
) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Labels in order (given ones first, then any others seen, sorted) and the counts."""
    seen = sorted({label for pair in pairs for label in pair} - set(labels or ()))
    ordered = [*(labels or ()), *seen]
    matrix = {h: dict.fromkeys(ordered, 0) for h in ordered}
    for human, machine in pairs:
        matrix[human][machine] += 1
    return ordered, matrix


def calibrate(
    classifier: str,
    pairs: Iterable[tuple[str, str | None]],
    labels: Sequence[str] | None = None,
) -> Calibration:
    usable, errors = _usable(pairs)
    ordered, matrix = confusion_matrix(usable, labels)
    return Calibration(
        classifier=classifier,
        labels=ordered,
        matrix=matrix,
        n=len(usable),
        errors=errors,
        agreement=agreement(usable),
        kappa=cohen_kappa(usable),
    )


def meets_threshold(result: Calibration, *, min_kappa: float, min_pairs: int = 1) -> bool:
    """Whether a gate may trust this classifier: enough labelled pairs and kappa high enough."""
    return result.n >= min_pairs and result.kappa >= min_kappa


def format_calibration(result: Calibration) -> str:
    """A small report: the numbers, then the confusion matrix (rows: human)."""
    head = (
        f"{result.classifier}: {result.n} pairs, agreement {result.agreement:.1%}, "
        f"kappa {result.kappa:.3f}"
        + (f", {result.errors} errors excluded" if result.errors else "")
    )
    corner = "human \\ judge"
    width = max([len(corner), *(len(label) for label in result.labels)])
    cells = max([5, *(len(label) for label in result.labels)])
    lines = [
        head,
        f"  {corner:<{width}}  " + "  ".join(f"{x:>{cells}}" for x in result.labels),
    ]
    for human in result.labels:
        row = "  ".join(f"{result.matrix[human][m]:>{cells}}" for m in result.labels)
        lines.append(f"  {human:<{width}}  {row}")
    return "\n".join(lines)
