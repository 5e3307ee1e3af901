"""Which traces to promote: filters over annotations, ids, time, and a seeded sample.

Several values of one filter are alternatives (``--trace-id a --trace-id b``);
different filters must all hold. Sampling keeps a trace when a hash of the seed
and its trace id falls under the fraction, so the same seed picks the same
traces whatever order the files list them in, and adding traces to the input
never changes whether an existing one is picked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from agent_backtest.errors import ConfigError
from agent_backtest.promote.modes import LabelMap
from agent_backtest.trace.model import Trace


@dataclass(frozen=True, slots=True)
class AnnotationFilter:
    name: str
    label: str | None = None

    @classmethod
    def parse(cls, text: str) -> AnnotationFilter:
        name, sep, label = text.partition("=")
        if not name:
            raise ConfigError(f"--annotation {text!r}: empty name", fix="write NAME or NAME=LABEL")
        return cls(name, label if sep else None)


@dataclass(frozen=True, slots=True)
class ScoreBelow:
    name: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> ScoreBelow:
        name, sep, value = text.partition("=")
        try:
            threshold = float(value)
        except ValueError:
            threshold = float("nan")
        if not name or not sep or threshold != threshold:
            raise ConfigError(
                f"--score-below {text!r}: expected NAME=NUMBER",
                fix="e.g. --score-below helpfulness=0.5",
            )
        return cls(name, threshold)


def parse_time(text: str, *, end_of_day: bool, flag: str) -> datetime:
    """ISO date or datetime, naive read as UTC; a bare date as ``--until`` covers that whole day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{flag} {text!r} is not an ISO date or datetime",
            fix="e.g. 2025-03-01 or 2025-03-01T14:00:00+00:00",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sample_point(seed: int, trace_id: str) -> float:
    """A number in [0, 1) fixed by seed and trace id."""
    digest = hashlib.sha256(f"{seed}\x00{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Selection:
    annotations: Sequence[AnnotationFilter] = ()
    failure_modes: Sequence[str] = ()
    score_below: Sequence[ScoreBelow] = ()
    trace_ids: frozenset[str] = frozenset()
    sessions: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    limit: int | None = None
    sample: float | None = None
    seed: int = 0
    label_map: LabelMap = field(default_factory=LabelMap)

    def __post_init__(self) -> None:
        if self.sample is not None and not 0.0 < self.sample <= 1.0:
            raise ConfigError(
                f"--sample {self.sample} is outside (0, 1]", fix="e.g. --sample 0.1 for 10%"
            )
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit {self.limit} must be at least 1")
        unknown = sorted(set(self.failure_modes) - self.label_map.known)
        if unknown:
            raise ConfigError(
                f"--failure-mode {', '.join(unknown)}: unknown failure mode",
                fix=f"choose from: {', '.join(sorted(self.label_map.known))}",
            )

    def why_not(self, trace: Trace) -> str | None:
        """``None`` if the trace is selected, else which filter left it out."""
        if self.trace_ids and trace.trace_id not in self.trace_ids:
            return "trace id not requested"
        if self.sessions and trace.session_id not in self.sessions:
            return "session not requested"
        if self.since is not None or self.until is not None:
            started = datetime.fromtimestamp(trace.start_ns / 1e9, tz=UTC)
            if self.since is not None and started < self.since:
                return "started before --since"
            if self.until is not None and started >= self.until:
                return "started after --until"
        if self.annotations and not any(
            a.name == f.name and (f.label is None or a.label == f.label)
            for a in trace.annotations
            for f in self.annotations
        ):
            return "no matching annotation"
        if self.score_below and not any(
            a.name == f.name and a.score is not None and a.score < f.threshold
            for a in trace.annotations
            for f in self.score_below
        ):
            return "no score below the threshold"
        if self.failure_modes and not set(self.failure_modes) & set(
            self.label_map.modes_for(trace.annotations)
        ):
            return "failure mode not requested"
        if self.sample is not None and sample_point(self.seed, trace.trace_id) >= self.sample:
            return "not in sample"
        return None

    def select(self, traces: Iterable[Trace]) -> Iterator[Trace]:
        """Selected traces in input order, at most ``limit``."""
        taken = 0
        for trace in traces:
            if self.limit is not None and taken >= self.limit:
                return
            if self.why_not(trace) is None:
                taken += 1
                yield trace
