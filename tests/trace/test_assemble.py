from __future__ import annotations

from agent_backtest.trace.assemble import Assembler, group_by_session
from agent_backtest.trace.conventions.decode import DecodedSpan
from agent_backtest.trace.model import (
    Annotation,
    AnnotationTarget,
    Span,
    SpanStatus,
    StatusCode,
    Trace,
)


def _span(span_id: str, parent: str | None, start: int, *, error: bool = False) -> DecodedSpan:
    status = SpanStatus(code=StatusCode.ERROR if error else StatusCode.OK)
    return DecodedSpan(
        span=Span(
            span_id=span_id,
            parent_id=parent,
            name=f"s{span_id}",
            start_ns=start,
            end_ns=start + 10,
            status=status,
        )
    )


def _assemble(
    spans: list[tuple[str, DecodedSpan]], idle_window: int = 5_000
) -> tuple[list[Trace], Assembler]:
    assembler = Assembler(idle_window=idle_window)
    out: list[Trace] = []
    for trace_id, decoded in spans:
        out.extend(assembler.add(trace_id, decoded))
    out.extend(assembler.finish())
    return out, assembler


def test_spans_group_by_trace_and_sort_by_start() -> None:
    traces, _ = _assemble(
        [
            ("t1", _span("b", "a", 20)),
            ("t2", _span("x", None, 5)),
            ("t1", _span("a", None, 10)),
            ("t1", _span("c", "b", 30, error=True)),
        ]
    )
    by_id = {t.trace_id: t for t in traces}
    assert sorted(by_id) == ["t1", "t2"]
    t1 = by_id["t1"]
    assert [s.span_id for s in t1.spans] == ["a", "b", "c"]
    assert [(d, s.span_id) for d, s in t1.walk()] == [(0, "a"), (1, "b"), (2, "c")]
    assert (t1.start_ns, t1.end_ns) == (10, 40)
    assert t1.metrics.error_spans == 1


def test_orphans_attach_under_the_root_with_a_warning() -> None:
    traces, assembler = _assemble([("t", _span("root", None, 1)), ("t", _span("o", "missing", 2))])
    (trace,) = traces
    assert trace.span("o") is not None
    assert trace.span("o").parent_id == "root"  # type: ignore[union-attr]
    assert any("missing parent missing" in w for w in assembler.warnings)


def test_parent_cycles_are_cut_and_reported() -> None:
    traces, assembler = _assemble([("t", _span("a", "b", 1)), ("t", _span("b", "a", 2))])
    (trace,) = traces
    assert len(trace.roots) == 1
    assert len(trace.walk()) == 2
    assert any("cycle" in w for w in assembler.warnings)


def test_a_trace_with_its_root_is_flushed_once_idle_so_memory_stays_bounded() -> None:
    spans = []
    for index in range(50):
        spans.append((f"t{index}", _span(f"{index}r", None, index)))
        spans.append((f"t{index}", _span(f"{index}c", f"{index}r", index)))
    assembler = Assembler(idle_window=4)
    flushed_early = 0
    for trace_id, decoded in spans:
        flushed_early += sum(1 for _ in assembler.add(trace_id, decoded))
    assert flushed_early >= 45
    assert assembler._buffered <= 2 * 4 + 2
    assert len(list(assembler.finish())) == 50 - flushed_early


def test_late_span_for_a_flushed_trace_is_reported_not_dropped() -> None:
    traces, assembler = _assemble(
        [
            ("t", _span("r", None, 1)),
            ("u", _span("u1", None, 1)),
            ("u", _span("u2", "u1", 1)),
            ("t", _span("late", "r", 2)),
        ],
        idle_window=0,
    )
    assert sum(len(t.spans) for t in traces) == 4
    assert assembler.late_spans == 1


def test_annotations_attach_by_trace_id_or_span_id() -> None:
    by_trace = Annotation(
        target=AnnotationTarget(trace_id="t"), name="failure_mode", label="step_repetition"
    )
    by_span = Annotation(
        target=AnnotationTarget(kind="span", span_id="c"), name="correct", score=0.0
    )
    stray = Annotation(target=AnnotationTarget(trace_id="nope"), name="x", label="y")
    assembler = Assembler(annotations=[by_trace, by_span, stray])
    list(assembler.add("t", _span("r", None, 1)))
    list(assembler.add("t", _span("c", "r", 2)))
    (trace,) = list(assembler.finish())
    assert {a.name for a in trace.annotations} == {"failure_mode", "correct"}
    assert all(a.target.trace_id == "t" for a in trace.annotations)
    assert assembler.unattached_annotations() == [stray]


def test_session_annotations_attach_to_every_trace_of_the_session() -> None:
    label = Annotation(
        target=AnnotationTarget(kind="session", session_id="s1"), name="outcome", label="failed"
    )
    assembler = Assembler(annotations=[label])
    for trace_id in ("t1", "t2", "t3"):
        decoded = _span(f"{trace_id}-root", None, 1)
        decoded.session_id = "s1" if trace_id != "t3" else "s2"
        list(assembler.add(trace_id, decoded))
    traces = {t.trace_id: t for t in assembler.finish()}
    assert [a.target.trace_id for a in traces["t1"].annotations] == ["t1"]
    assert [a.target.trace_id for a in traces["t2"].annotations] == ["t2"]
    assert traces["t3"].annotations == []
    assert assembler.unattached_annotations() == []
    assert [t.trace_id for t in group_by_session(traces.values())["s1"]] == ["t1", "t2"]
