"""Which failure modes a trace's annotations name: known keys and the label mapping.

Annotations come in whatever words a team uses (``failure_mode=looped``); a case
lists taxonomy keys (``step_repetition``), so coverage can be counted against
the taxonomy. The mapping is configurable; by default a label that already is a
known failure-mode key maps to itself, and an annotation *named* after a
failure mode with a positive label ("true", "detected", ...) names that mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent_backtest.errors import ConfigError
from agent_backtest.taxonomy import failure_mode_keys
from agent_backtest.trace.model import Annotation

_POSITIVE = frozenset({"true", "yes", "1", "detected", "present", "fail", "failed", "failure"})


def known_failure_modes() -> frozenset[str]:
    """Taxonomy keys (operational modes + the 14 MAST modes) from ``agent_backtest.taxonomy``."""
    return frozenset(failure_mode_keys())


@dataclass
class LabelMap:
    """``{"looped": "step_repetition", "failure_mode=looped": "step_repetition"}``.

    A key is either a label (any annotation name) or ``NAME=LABEL`` (only that
    annotation name, which wins over a bare label).
    """

    mapping: dict[str, str] = field(default_factory=dict)
    known: frozenset[str] = field(default_factory=known_failure_modes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "label map") -> LabelMap:
        known = known_failure_modes()
        mapping: dict[str, str] = {}
        for key, value in (data or {}).items():
            if not isinstance(value, str):
                raise ConfigError(
                    f"{where}: {key!r} maps to {value!r}, expected a failure-mode key",
                    fix="write label: failure_mode_key",
                )
            if value not in known:
                raise ConfigError(
                    f"{where}: {key!r} maps to unknown failure mode {value!r}",
                    fix=f"choose one of: {', '.join(sorted(known))}",
                )
            mapping[str(key)] = value
        return cls(mapping, known)

    def mode_for(self, annotation: Annotation) -> str | None:
        label = annotation.label
        if label is not None:
            qualified = self.mapping.get(f"{annotation.name}={label}")
            if qualified is not None:
                return qualified
            bare = self.mapping.get(label)
            if bare is not None:
                return bare
            if label in self.known:
                return label
        # Scores alone are not read as "detected": whether 1.0 means good or bad
        # differs between classifiers.
        if (
            annotation.name in self.known
            and label is not None
            and label.strip().lower() in _POSITIVE
        ):
            return annotation.name
        return None

    def modes_for(self, annotations: Iterable[Annotation]) -> list[str]:
        """Failure modes in first-seen order, each once."""
        seen: dict[str, None] = {}
        for annotation in annotations:
            mode = self.mode_for(annotation)
            if mode is not None:
                seen.setdefault(mode, None)
        return list(seen)
