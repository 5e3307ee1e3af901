"""``backtest promote``: annotated production traces become eval cases."""

from __future__ import annotations

import os
from pathlib import Path

import click

from agent_backtest.errors import ConfigError
from agent_backtest.promote.promote import (
    Outcome,
    PromoteResult,
    Status,
    load_label_map,
    load_rules_file,
    promote,
)
from agent_backtest.promote.select import AnnotationFilter, ScoreBelow, Selection, parse_time
from agent_backtest.trace.registry import readers


def label_pairs(values: tuple[str, ...]) -> dict[str, str]:
    """``--label-map looped:step_repetition`` / ``failure_mode=looped:step_repetition``."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, mode = value.rpartition(":")
        if not sep or not key or not mode:
            raise click.BadParameter(
                f"{value!r}: expected LABEL:MODE or NAME=LABEL:MODE", param_hint="--label-map"
            )
        out[key] = mode
    return out


def _show(path: Path | None, root: Path) -> str:
    if path is None:
        return "?"
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return str(path)


def _line(outcome: Outcome, result: PromoteResult) -> str:
    where = _show(outcome.path, result.evalset)
    trace = f"trace {outcome.trace_id}"
    if outcome.status is Status.REJECTED:
        return f"rejected   {trace}: {outcome.reason}"
    if outcome.status is Status.DUPLICATE:
        return f"duplicate  {trace} is already case {outcome.case_id} ({where})"
    if outcome.status is Status.UNCHANGED:
        return f"unchanged  {where} ({trace})"
    verb = outcome.status.value
    if result.dry_run:
        verb = "would write" if outcome.status is Status.WRITTEN else "would update"
    modes = ", ".join(outcome.failure_modes)
    redacted = ", ".join(f"{kind} {n}" for kind, n in outcome.redacted.items())
    detail = f"{trace}; {modes}" + (f"; redacted {redacted}" if redacted else "")
    return f"{verb:<10} {where} ({detail})"


def _summary(result: PromoteResult) -> str:
    names = {Status.WRITTEN: "to write", Status.UPDATED: "to update"} if result.dry_run else {}
    parts = [
        f"{result.count(status)} {names.get(status, status.value)}"
        for status in Status
        if result.count(status) or status in (Status.WRITTEN, Status.DUPLICATE, Status.REJECTED)
    ]
    head = "dry run, nothing written: " if result.dry_run else ""
    selected = len(result.outcomes)
    noun = "trace" if selected == 1 else "traces"
    return f"{head}{selected} {noun} selected for {result.evalset}: {', '.join(parts)}"


@click.command("promote")
@click.argument(
    "sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--evalset",
    "evalset_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Evalset folder; created (with evalset.yaml) when missing.",
)
@click.option("--annotation", multiple=True, metavar="NAME[=LABEL]", help="Has this annotation.")
@click.option(
    "--failure-mode", multiple=True, metavar="MODE", help="Annotations map to this failure mode."
)
@click.option("--score-below", multiple=True, metavar="NAME=X", help="Annotation score below X.")
@click.option("--trace-id", multiple=True, metavar="ID", help="Only these trace ids.")
@click.option("--session", multiple=True, metavar="ID", help="Only these sessions.")
@click.option("--since", metavar="DATE", help="Traces that started at or after (ISO date/time).")
@click.option("--until", metavar="DATE", help="Traces that started before (a date: its end).")
@click.option("--limit", type=int, help="At most this many traces (in input order).")
@click.option("--sample", type=float, metavar="FRACTION", help="Keep this fraction, by trace id.")
@click.option("--seed", type=int, help="Seed for --sample (default 0).")
@click.option(
    "--label-map",
    multiple=True,
    metavar="[NAME=]LABEL:MODE",
    help="Map an annotation label to a failure mode (over evalset.yaml failure_mode_labels).",
)
@click.option(
    "--redaction-rules",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML with extra redaction rules (patterns, paths, disable).",
)
@click.option("--format", "format_name", default=None, help="Trace format; detected when omitted.")
@click.option("--skip-invalid", is_flag=True, help="Skip malformed trace records (reported).")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--update", is_flag=True, help="Rewrite existing cases whose content changed.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
def promote_command(
    sources: tuple[Path, ...],
    evalset_dir: Path,
    annotation: tuple[str, ...],
    failure_mode: tuple[str, ...],
    score_below: tuple[str, ...],
    trace_id: tuple[str, ...],
    session: tuple[str, ...],
    since: str | None,
    until: str | None,
    limit: int | None,
    sample: float | None,
    seed: int | None,
    label_map: tuple[str, ...],
    redaction_rules: Path | None,
    format_name: str | None,
    skip_invalid: bool,
    dry_run: bool,
    update: bool,
    quiet: bool,
) -> None:
    """Promote annotated production traces (any format, plus annotation files) to cases."""
    if format_name is not None and format_name not in readers():
        raise click.BadParameter(
            f"{format_name!r}; choose one of: {', '.join(sorted(readers()))}", param_hint="--format"
        )
    if seed is not None and sample is None:
        raise click.UsageError("--seed only applies with --sample")
    if evalset_dir.exists() and not evalset_dir.is_dir():
        raise ConfigError(f"{evalset_dir} is not a folder", fix="pass an evalset folder")
    selection = Selection(
        annotations=[AnnotationFilter.parse(a) for a in annotation],
        failure_modes=list(failure_mode),
        score_below=[ScoreBelow.parse(s) for s in score_below],
        trace_ids=frozenset(trace_id),
        sessions=frozenset(session),
        since=parse_time(since, end_of_day=False, flag="--since") if since else None,
        until=parse_time(until, end_of_day=True, flag="--until") if until else None,
        limit=limit,
        sample=sample,
        seed=seed or 0,
        label_map=load_label_map(evalset_dir, label_pairs(label_map)),
    )
    rules = load_rules_file(redaction_rules) if redaction_rules else None
    result = promote(
        list(sources),
        evalset_dir,
        selection,
        dry_run=dry_run,
        update=update,
        rules=rules,
        format_name=format_name,
        skip_invalid=skip_invalid,
    )
    if result.created_config:
        click.echo(f"created    {evalset_dir / 'evalset.yaml'}")
    if not quiet:
        for outcome in result.outcomes:
            click.echo(_line(outcome, result))
    for leftover in result.leftover_temp_files:
        click.echo(
            f"warning: {leftover}: temp file from an interrupted write (safe to delete)", err=True
        )
    for warning in result.warnings[:20]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(_summary(result))
