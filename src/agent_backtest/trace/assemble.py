"""Spans -> traces: group by trace id, build the tree, attach annotations.

Assembly streams, the way the Collector's groupbytrace processor bounds memory:
a trace is kept open while its spans arrive and is flushed once its root span
has arrived and ``idle_window`` further spans went by without touching it, when
too many spans are buffered (least recently touched first), or at the end of
input. A span that arrives for a trace already flushed is reported, never
dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter

from agent_backtest.trace.conventions.decode import DecodedSpan
from agent_backtest.trace.model import (
    Annotation,
    Span,
    SpanStatus,
    StatusCode,
    Trace,
)

DEFAULT_MAX_BUFFERED_SPANS = 200_000
# Exporters write a trace's spans close together (a root ends last, in the same
# or the next batch), so a trace untouched for this many spans is complete.
DEFAULT_IDLE_WINDOW = 5_000


@dataclass
class _OpenTrace:
    trace_id: str
    spans: list[Span] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    session_id: str | None = None
    agent_name: str | None = None
    agent_id: str | None = None
    has_root: bool = False
    last_touch: int = 0


class Assembler:
    """Feed decoded spans in, get whole ``Trace``s out."""

    def __init__(
        self,
        annotations: Iterable[Annotation] = (),
        max_buffered_spans: int = DEFAULT_MAX_BUFFERED_SPANS,
        idle_window: int = DEFAULT_IDLE_WINDOW,
    ) -> None:
        self._open: dict[str, _OpenTrace] = {}
        self._buffered = 0
        self._seen = 0
        self._max = max_buffered_spans
        self._idle_window = idle_window
        self._flushed: set[str] = set()
        self._pending: dict[str, list[Annotation]] = {}
        self._session_used: dict[str, bool] = {}
        self._last: str | None = None  # the trace of the previous span
        self._check_at = 0  # the span count at which the oldest trace may be due
        self.warnings: list[str] = []
        self.late_spans = 0
        for annotation in annotations:
            self._park(annotation)

    def _park(self, annotation: Annotation) -> None:
        target = annotation.target
        if target.trace_id:
            key = target.trace_id
        elif target.span_id:
            key = f"span:{target.span_id}"
        elif target.session_id:
            key = f"session:{target.session_id}"
        else:
            key = "unattached:"
        self._pending.setdefault(key, []).append(annotation)
        self._session_used.setdefault(key, False)

    def add(self, trace_id: str, decoded: DecodedSpan) -> Iterable[Trace]:
        """Add one span; returns the traces flushed to keep memory bounded (usually none)."""
        span = decoded.span
        if trace_id in self._flushed:
            self.late_spans += 1
            if self.late_spans <= 5:
                self.warnings.append(
                    f"span {span.span_id} of trace {trace_id} arrived after the trace "
                    "was assembled; it is reported as a separate trace fragment"
                )
        open_traces = self._open
        current = open_traces.get(trace_id)
        if current is None:
            current = open_traces[trace_id] = _OpenTrace(trace_id)
            self._last = trace_id
        elif trace_id != self._last:  # the previous span's trace is already the most recent
            del open_traces[trace_id]
            open_traces[trace_id] = current  # re-insert: dict order is recency order
            self._last = trace_id
        current.spans.append(span)
        if decoded.annotations:
            current.annotations.extend(decoded.annotations)
        current.session_id = current.session_id or decoded.session_id
        current.agent_name = current.agent_name or decoded.agent_name
        current.agent_id = current.agent_id or decoded.agent_id
        if span.parent_id is None:
            current.has_root = True
        self._seen += 1
        current.last_touch = self._seen
        self._buffered += 1
        # Only look at the oldest trace when it could be due (see _evict).
        if self._buffered > self._max or self._seen >= self._check_at:
            return self._evict()
        return ()

    def _evict(self) -> list[Trace]:
        flushed: list[Trace] = []
        open_traces = self._open
        while len(open_traces) > 1:
            oldest = next(iter(open_traces))
            candidate = open_traces[oldest]
            idle = self._seen - candidate.last_touch
            # A trace whose root never shows up still closes, just later.
            patience = self._idle_window if candidate.has_root else 4 * self._idle_window
            if self._buffered > self._max or idle > patience:
                flushed.append(self._flush(oldest))
            else:
                break
        # The oldest trace's last touch only grows and no trace is flushed before
        # idle_window, so nothing can fall due before this span count.
        first = next(iter(open_traces.values()), None)
        self._check_at = first.last_touch + self._idle_window + 1 if first is not None else 0
        return flushed

    def add_annotation(self, annotation: Annotation) -> None:
        target = annotation.target.trace_id
        if target is not None and target in self._open:
            self._open[target].annotations.append(annotation)
        else:
            self._park(annotation)

    def finish(self) -> Iterator[Trace]:
        for trace_id in list(self._open):
            yield self._flush(trace_id)

    def unattached_annotations(self) -> list[Annotation]:
        """Annotations whose trace, span or session never appeared in the input."""
        return [
            a
            for key, group in self._pending.items()
            if not (key.startswith("session:") and self._session_used.get(key))
            for a in group
        ]

    def _flush(self, trace_id: str) -> Trace:
        current = self._open.pop(trace_id)
        self._buffered -= len(current.spans)
        self._flushed.add(trace_id)
        trace = build_trace(current.trace_id, current.spans, self.warnings)
        trace.session_id = current.session_id
        trace.agent_name = current.agent_name
        trace.agent_id = current.agent_id
        trace.annotations = current.annotations
        return self.attach_pending(trace)

    def attach_pending(self, trace: Trace) -> Trace:
        """Give a whole trace the parked annotations that name it, its spans or its session.

        Used for flushed traces and for traces that arrive already assembled
        (our normalized JSONL), so sidecar labels attach to both alike.
        """
        trace_id = trace.trace_id
        annotations = list(trace.annotations) + self._pending.pop(trace_id, [])
        for span in trace.spans:
            annotations.extend(self._pending.pop(f"span:{span.span_id}", []))
        for annotation in annotations:
            annotation.target.trace_id = trace_id
        if trace.session_id is not None:
            # A session label is about every trace of the session: each gets a copy
            # that names its trace, and the label stays parked for the next one.
            key = f"session:{trace.session_id}"
            for annotation in self._pending.get(key, []):
                copy = annotation.model_copy(deep=True)
                copy.target.trace_id = trace_id
                annotations.append(copy)
                self._session_used[key] = True
        trace.annotations = annotations
        return trace


def group_by_session(traces: Iterable[Trace]) -> dict[str | None, list[Trace]]:
    """Traces grouped by session id in first-seen order (``None``: no session)."""
    groups: dict[str | None, list[Trace]] = {}
    for trace in traces:
        groups.setdefault(trace.session_id, []).append(trace)
    return groups


_by_time = attrgetter("start_ns", "end_ns")


def build_trace(trace_id: str, spans: list[Span], warnings: list[str]) -> Trace:
    """Order spans, re-parent orphans under the root, break cycles."""
    spans.sort(key=_by_time)
    by_id: dict[str, Span] = {}
    for span in spans:
        if span.span_id in by_id:
            warnings.append(f"trace {trace_id}: duplicate span id {span.span_id}; kept both")
        by_id.setdefault(span.span_id, span)
    roots = [s for s in spans if s.parent_id is None]
    root = roots[0] if roots else None
    orphans: list[str] = []
    for span in spans:
        if span.parent_id is not None and span.parent_id not in by_id:
            new_parent = root.span_id if root is not None and root is not span else None
            orphans.append(f"span {span.span_id} ({span.name}) has missing parent {span.parent_id}")
            span.parent_id = new_parent
            if root is None:
                root = span
    if orphans:
        # One line per trace: partial exports (Tempo, sampled collectors) can
        # orphan dozens of spans, and a line each would bury everything else.
        more = (
            f" and {len(orphans) - 1} more spans with missing parents" if len(orphans) > 1 else ""
        )
        warnings.append(f"trace {trace_id}: {orphans[0]}{more}; attached under the root")
    _break_cycles(trace_id, spans, by_id, warnings)
    start = min((s.start_ns for s in spans), default=0)
    end = max((s.end_ns for s in spans), default=0)
    top = [s for s in spans if s.parent_id is None]
    status = SpanStatus.model_construct(code=StatusCode.UNSET, message=None)
    if top:
        status = top[0].status
    if any(s.status.code is StatusCode.ERROR for s in top):
        status = next(s.status for s in top if s.status.code is StatusCode.ERROR)
    return Trace.model_construct(
        trace_id=trace_id,
        session_id=None,
        agent_id=None,
        agent_name=None,
        start_ns=start,
        end_ns=end,
        status=status,
        spans=spans,
        annotations=[],
    )


def _break_cycles(
    trace_id: str, spans: list[Span], by_id: dict[str, Span], warnings: list[str]
) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    walk = spans
    if len(by_id) == len(spans):
        # Fast path: a span whose parent is already known to reach a root reaches
        # one too. In start order that is nearly every span; only the rest are walked.
        rooted: set[str] = set()
        walk = []
        for span in spans:
            parent = span.parent_id
            if parent is None or parent in rooted:
                rooted.add(span.span_id)
            else:
                walk.append(span)
        if not walk:
            return
        state = dict.fromkeys(rooted, 2)
    for span in walk:
        path: list[Span] = []
        node: Span | None = span
        while node is not None and state.get(node.span_id) is None:
            state[node.span_id] = 1
            path.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        if node is not None and state.get(node.span_id) == 1:
            warnings.append(
                f"trace {trace_id}: parent cycle through span {node.span_id}; "
                "the cycle was cut there and the span made a root"
            )
            node.parent_id = None
        for visited in path:
            state[visited.span_id] = 2
