"""Reading traces from Python: the one entry point the CLI, promote and score share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent_backtest.trace.assemble import DEFAULT_MAX_BUFFERED_SPANS, Assembler
from agent_backtest.trace.conventions.decode import decode_span
from agent_backtest.trace.model import Annotation, SpanKind, Trace
from agent_backtest.trace.registry import detect_format, get_reader
from agent_backtest.trace.source import FileSource, ReadOptions, SkipLog


@dataclass
class FileReport:
    """What reading one file found: its format, counts, skipped records, warnings."""

    path: Path
    format: str
    spans: int = 0
    llm_spans: int = 0
    tool_spans: int = 0
    error_spans: int = 0
    annotations: int = 0
    trace_ids: set[str] = field(default_factory=set)
    skipped: SkipLog = field(default_factory=SkipLog)
    warnings: list[str] = field(default_factory=list)

    @property
    def traces(self) -> int:
        return len(self.trace_ids)


def is_annotation_only(format_name: str) -> bool:
    return bool(getattr(get_reader(format_name), "ANNOTATIONS_ONLY", False))


class TraceStream:
    """Iterate the traces in several files, any mix of formats, with bounded memory.

    Annotation-only files (sidecar JSONL, Phoenix span annotations) are read
    first, so their labels attach to traces from the other files. After
    iteration, ``reports`` holds one ``FileReport`` per file.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        format: str | None = None,
        options: ReadOptions | None = None,
        max_buffered_spans: int = DEFAULT_MAX_BUFFERED_SPANS,
    ) -> None:
        self.options = options or ReadOptions()
        self.max_buffered_spans = max_buffered_spans
        self.reports = [
            FileReport(path=Path(p), format=format or detect_format(Path(p))) for p in paths
        ]
        self.unattached_annotations: list[Annotation] = []
        self.warnings: list[str] = []

    def __iter__(self) -> Iterator[Trace]:
        ordered = sorted(self.reports, key=lambda r: not is_annotation_only(r.format))
        assembler = Assembler(max_buffered_spans=self.max_buffered_spans)
        for report in ordered:
            yield from self._read_one(report, assembler)
        yield from assembler.finish()
        self.unattached_annotations = assembler.unattached_annotations()
        self.warnings.extend(assembler.warnings)

    def _read_one(self, report: FileReport, assembler: Assembler) -> Iterator[Trace]:
        source = FileSource(report.path, self.options)
        reader = get_reader(report.format)
        # Locals: this loop runs once per span.
        trace_ids = report.trace_ids
        add_span = assembler.add
        llm, tool = SpanKind.LLM, SpanKind.TOOL
        for item in reader.read(source):
            if item.annotation is not None:
                report.annotations += 1
                assembler.add_annotation(item.annotation)
            if item.trace is not None:
                yield from self._pass_through(report, assembler.attach_pending(item.trace))
            raw = item.span
            if raw is None:
                continue
            decoded = decode_span(raw)
            span = decoded.span
            report.spans += 1
            trace_ids.add(raw.trace_id)
            if decoded.annotations:
                report.annotations += len(decoded.annotations)
            kind = span.kind
            if kind is llm:
                report.llm_spans += 1
            elif kind is tool:
                report.tool_spans += 1
            if span.is_error:
                report.error_spans += 1
            flushed = add_span(raw.trace_id, decoded)
            if flushed:
                yield from flushed
        report.skipped = source.skipped
        report.warnings.extend(source.warnings)

    @staticmethod
    def _pass_through(report: FileReport, trace: Trace) -> Iterator[Trace]:
        _count(report, trace)
        yield trace


def _count(report: FileReport, trace: Trace) -> None:
    report.trace_ids.add(trace.trace_id)
    report.annotations += len(trace.annotations)
    for span in trace.spans:
        report.spans += 1
        report.llm_spans += span.kind is SpanKind.LLM
        report.tool_spans += span.kind is SpanKind.TOOL
        report.error_spans += span.is_error


def read_traces(
    paths: str | Path | Iterable[str | Path],
    *,
    format: str | None = None,
    skip_invalid: bool = False,
) -> list[Trace]:
    """All traces in one or more files, formats detected by content."""
    path_list = [paths] if isinstance(paths, str | Path) else list(paths)
    return list(
        TraceStream(path_list, format=format, options=ReadOptions(skip_invalid=skip_invalid))
    )
