"""``backtest traces``: look at production traces before promoting them."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from agent_backtest.trace.api import FileReport, TraceStream
from agent_backtest.trace.registry import readers
from agent_backtest.trace.render import render_tree
from agent_backtest.trace.source import ReadOptions
from agent_backtest.trace.writers import write_normalized_jsonl

_PROGRESS_MIN_BYTES = 8 << 20


format_option = click.option(
    "--format",
    "format_name",
    default=None,
    help="Trace format; detected from the content when omitted.",
)
skip_option = click.option(
    "--skip-invalid",
    is_flag=True,
    help="Skip malformed records (reported with a count and reasons) instead of stopping.",
)
files_argument = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


@contextmanager
def progress_options(files: tuple[Path, ...], skip_invalid: bool) -> Iterator[ReadOptions]:
    """Read options with a byte progress bar on stderr for large inputs on a terminal."""
    total = sum(f.stat().st_size for f in files)
    if total < _PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield ReadOptions(skip_invalid=skip_invalid)
        return
    with click.progressbar(length=total, label="reading traces", file=sys.stderr) as bar:
        last = 0

        def advance(consumed: int) -> None:
            nonlocal last
            if consumed < last:  # the next file started
                last = 0
            bar.update(consumed - last)
            last = consumed

        yield ReadOptions(skip_invalid=skip_invalid, progress=advance)


def open_stream(
    files: tuple[Path, ...], format_name: str | None, options: ReadOptions
) -> TraceStream:
    if format_name is not None and format_name not in readers():
        raise click.BadParameter(
            f"{format_name!r}; choose one of: {', '.join(sorted(readers()))}", param_hint="--format"
        )
    return TraceStream(list(files), format=format_name, options=options)


def report_problems(stream: TraceStream) -> None:
    for report in stream.reports:
        if report.skipped.count:
            reasons = "; ".join(f"{n} x {why}" for why, n in report.skipped.reasons.most_common())
            click.echo(
                f"warning: {report.path}: skipped {report.skipped.count} invalid records ({reasons})",
                err=True,
            )
        for warning in report.warnings:
            click.echo(f"warning: {report.path}: {warning}", err=True)
    for warning in stream.warnings[:20]:
        click.echo(f"warning: {warning}", err=True)
    if stream.unattached_annotations:
        click.echo(
            f"warning: {len(stream.unattached_annotations)} annotations name traces not in the input",
            err=True,
        )


def _file_json(report: FileReport) -> dict[str, object]:
    return {
        "path": str(report.path),
        "format": report.format,
        "traces": report.traces,
        "spans": report.spans,
        "llm_spans": report.llm_spans,
        "tool_spans": report.tool_spans,
        "error_spans": report.error_spans,
        "annotations": report.annotations,
        "skipped": report.skipped.count,
    }


@click.group()
def traces() -> None:
    """Inspect and convert production trace files (any supported format)."""


@traces.command()
@files_argument
@format_option
@skip_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def stats(
    files: tuple[Path, ...], format_name: str | None, skip_invalid: bool, as_json: bool
) -> None:
    """Detected format and span, trace and annotation counts per file."""
    with progress_options(files, skip_invalid) as options:
        stream = open_stream(files, format_name, options)
        trace_count = sum(1 for _ in stream)
    report_problems(stream)
    rows = [_file_json(r) for r in stream.reports]
    totals = {
        key: sum(int(str(row[key])) for row in rows)
        for key in ("spans", "llm_spans", "tool_spans", "error_spans", "annotations", "skipped")
    }
    if as_json:
        click.echo(json.dumps({"traces": trace_count, **totals, "files": rows}, indent=2))
        return
    width = max(len("total"), *(len(str(row["path"])) for row in rows))
    columns = ("traces", "spans", "llm_spans", "tool_spans", "error_spans", "annotations")
    click.echo(
        f"{'file':<{width}}  {'format':<19} {'traces':>6} {'spans':>7} {'llm':>6} {'tool':>6} {'errors':>6} {'annot.':>6}"
    )
    for row in rows:
        numbers = " ".join(f"{row[c]:>{7 if c == 'spans' else 6}}" for c in columns)
        click.echo(f"{row['path']!s:<{width}}  {row['format']!s:<19} {numbers}")
    if len(rows) > 1:
        total = {"traces": trace_count, **totals}
        numbers = " ".join(f"{total[c]:>{7 if c == 'spans' else 6}}" for c in columns)
        click.echo(f"{'total':<{width}}  {'':<19} {numbers}")


@traces.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trace", "trace_id", default=None, help="Only the trace with this id (prefix works)."
)
@format_option
@skip_option
def show(file: Path, trace_id: str | None, format_name: str | None, skip_invalid: bool) -> None:
    """The span tree of each trace: kind, name, duration, tokens, status."""
    with progress_options((file,), skip_invalid) as options:
        stream = open_stream((file,), format_name, options)
        shown = 0
        for trace in stream:
            if trace_id is not None and not trace.trace_id.startswith(trace_id.lower()):
                continue
            click.echo(render_tree(trace, color=sys.stdout.isatty()))
            shown += 1
    report_problems(stream)
    if trace_id is not None and shown == 0:
        raise click.UsageError(
            f"no trace with id {trace_id!r} in {file} (list them: backtest traces stats {file})"
        )


@traces.command()
@files_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The normalized JSONL file to write.",
)
@format_option
@skip_option
def convert(
    files: tuple[Path, ...], output: Path, format_name: str | None, skip_invalid: bool
) -> None:
    """Write the traces as agent-backtest normalized JSONL (one trace per line)."""
    with progress_options(files, skip_invalid) as options:
        stream = open_stream(files, format_name, options)
        count = write_normalized_jsonl(stream, output)
    report_problems(stream)
    click.echo(f"wrote {count} traces to {output}", err=True)
