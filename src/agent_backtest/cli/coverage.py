"""``backtest coverage``: production failure-mode frequencies against the evalsets' cases."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from agent_backtest.cli.promote import label_pairs
from agent_backtest.cli.traces import (
    format_option,
    open_stream,
    progress_options,
    report_problems,
    skip_option,
)
from agent_backtest.config import find_pyproject, load_settings
from agent_backtest.errors import InputError, Location
from agent_backtest.evalset.config import GatePolicy
from agent_backtest.evalset.evalset import CONFIG_FILE
from agent_backtest.evalset.storage import load_evalset_config
from agent_backtest.gate.coverage import (
    COVERAGE_FILE,
    ModeCounter,
    cases_per_mode,
    evalset_roots,
    evalsets_label_map,
    is_covered,
    weighted_coverage,
    write_coverage,
)
from agent_backtest.gate.model import CoverageSnapshot
from agent_backtest.gate.policy import effective_policy

_FILES = click.Path(exists=True, dir_okay=False, path_type=Path)


def coverage_table(
    snapshot: CoverageSnapshot, cases: Mapping[str, int], policy: GatePolicy
) -> list[str]:
    """One row per production failure mode (most frequent first), then modes that only
    the evalsets have; ``covered`` means at least ``min_cases_per_mode`` cases."""
    rows = [
        (m.mode, str(m.count), f"{m.share:.1%}", m.last_seen or "-", cases.get(m.mode, 0))
        for m in snapshot.modes
    ]
    seen = {m.mode for m in snapshot.modes}
    rows += [(mode, "0", "-", "-", n) for mode, n in sorted(cases.items()) if mode not in seen]
    width = max([len("failure mode"), *(len(row[0]) for row in rows)])
    lines = [
        f"{'failure mode':<{width}}  {'production':>10} {'share':>7}  {'last seen':<20} "
        f"{'cases':>5}  covered"
    ]
    for mode, count, share, last_seen, n in rows:
        covered = "yes" if is_covered(mode, cases, policy.min_cases_per_mode) else "no"
        lines.append(f"{mode:<{width}}  {count:>10} {share:>7}  {last_seen:<20} {n:>5}  {covered}")
    return lines


@click.command("coverage")
@click.argument("files", nargs=-1, type=_FILES, metavar="[FILE]...")
@click.option(
    "--traces",
    "trace_files",
    multiple=True,
    type=_FILES,
    metavar="FILE",
    help="Production trace or annotation file (any format). Files after it count too, so "
    "--traces prod/*.jsonl works.",
)
@click.option(
    "--evalsets",
    "evalsets_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of evalsets, or one evalset [default: [tool.agent-backtest] evalsets].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write the snapshot [default: <evalsets>/{COVERAGE_FILE}].",
)
@click.option(
    "--label-map",
    multiple=True,
    metavar="[NAME=]LABEL:MODE",
    help="Map an annotation label to a failure mode (over evalset.yaml failure_mode_labels).",
)
@format_option
@skip_option
@click.option("--dry-run", is_flag=True, help="Print the table; write nothing.")
def coverage_command(
    files: tuple[Path, ...],
    trace_files: tuple[Path, ...],
    evalsets_dir: Path | None,
    output: Path | None,
    label_map: tuple[str, ...],
    format_name: str | None,
    skip_invalid: bool,
    dry_run: bool,
) -> None:
    """Count failure modes in production traces and check which the evalsets cover.

    Writes the snapshot the gate weighs coverage with (commit it, so CI needs no
    production access). A trace counts once per failure mode its annotations name,
    mapped as `backtest promote` maps them.
    """
    sources = (*trace_files, *files)
    if not sources:
        raise click.UsageError("give the production traces: backtest coverage --traces FILE...")
    settings = load_settings()
    base = evalsets_dir if evalsets_dir is not None else Path(settings.evalsets)
    roots = evalset_roots(base)
    if not roots:
        click.echo(f"warning: no evalset under {base}: every failure mode is uncovered", err=True)
    labels = evalsets_label_map(roots, label_pairs(label_map))
    policy = effective_policy(
        settings.gate,
        [load_evalset_config(root / CONFIG_FILE).gate for root in roots],
        where=find_pyproject(),
    )
    per_mode = cases_per_mode(roots, Path(settings.cache_dir))
    counter = ModeCounter(labels)
    with progress_options(sources, skip_invalid) as options:
        stream = open_stream(sources, format_name, options)
        for trace in stream:
            counter.add(trace)
    report_problems(stream)
    if counter.traces == 0:
        raise InputError(
            "no traces read",
            where=Location(", ".join(str(s) for s in sources)),
            fix="check the files with 'backtest traces stats'",
        )
    snapshot = counter.snapshot(sources)
    for line in coverage_table(snapshot, per_mode, policy):
        click.echo(line)
    share = weighted_coverage(snapshot, per_mode, policy.min_cases_per_mode)
    failing = sum(m.count for m in snapshot.modes)
    click.echo(
        f"{snapshot.traces} traces, {failing} failure-mode occurrences in "
        f"{len(snapshot.modes)} modes; production-weighted coverage {share:.0%} "
        f"(min_coverage {policy.min_coverage:.0%})"
    )
    frequent = [
        m.mode
        for m in snapshot.modes
        if m.share >= policy.max_uncovered_share
        and not is_covered(m.mode, per_mode, policy.min_cases_per_mode)
    ]
    if frequent:
        click.echo(
            f"warning: uncovered with a share >= max_uncovered_share "
            f"{policy.max_uncovered_share:.0%}: {', '.join(frequent)} (the gate fails on these; "
            "promote cases with 'backtest promote --failure-mode MODE')",
            err=True,
        )
    if dry_run:
        click.echo("dry run: nothing written", err=True)
        return
    target = output if output is not None else base / COVERAGE_FILE
    write_coverage(snapshot, target)
    click.echo(f"wrote {target}", err=True)
