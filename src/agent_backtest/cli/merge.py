"""``backtest merge``: shard results in, one run report and one gate decision out."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from agent_backtest.config import find_pyproject, load_settings
from agent_backtest.errors import InputError, Location
from agent_backtest.evalset.evalset import EvalSet
from agent_backtest.replay.result import CaseResult
from agent_backtest.report.assemble import (
    build_run_report,
    evalset_folders,
    exit_code,
    load_evalsets,
    load_gate_inputs,
    missing_cases,
    override_from_env,
)
from agent_backtest.report.json_io import read_result
from agent_backtest.report.model import EvalsetInfo, RunReport
from agent_backtest.report.publish import closing_lines, github_error_lines, publish
from agent_backtest.report.shards import merge_case_results


def _recorded_folders(shards: list[tuple[Path, RunReport]]) -> list[Path]:
    """The evalset folders the shards ran, from their paths relative to the working directory."""
    folders: dict[str, Path] = {}
    for source, report in shards:
        for info in report.evalsets:
            folder = Path(info.path)
            if not (folder / "evalset.yaml").is_file():
                raise InputError(
                    f"evalset {info.name!r} is not at {info.path}",
                    where=Location(source, field="evalsets"),
                    fix="run 'backtest merge' from the project root, or pass --evalsets DIR",
                )
            folders.setdefault(str(folder.resolve()), folder)
    return sorted(folders.values())


def _check_same_evalsets(shards: list[tuple[Path, RunReport]], merged: list[EvalsetInfo]) -> None:
    """Every shard ran the evalsets as they are now; otherwise the counts would not add up."""
    now = {info.name: info for info in merged}
    for source, report in shards:
        for info in report.evalsets:
            current = now.get(info.name)
            if current is None:
                raise InputError(
                    f"evalset {info.name!r} that this shard ran was not found",
                    where=Location(source, field="evalsets"),
                    fix="pass --evalsets DIR with the folder that holds it",
                )
            if info.lock_hash and current.lock_hash and info.lock_hash != current.lock_hash:
                raise InputError(
                    f"evalset {info.name!r} ran at {info.lock_hash}, "
                    f"but {current.path} is now {current.lock_hash}",
                    where=Location(source, field="evalsets"),
                    fix="merge on the commit the shards ran on, or re-run every shard",
                )


def _check_complete(
    shards: list[tuple[Path, RunReport]], cases: list[CaseResult], evalsets: list[EvalSet]
) -> None:
    """A merge decides the merge of a pull request: a forgotten shard must not pass it."""
    missing = missing_cases(cases, evalsets)
    if not missing:
        return
    found = sorted({report.shard for _, report in shards if report.shard}) or ["none"]
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    raise InputError(
        f"{len(missing)} case(s) have no result in the files merged: "
        f"{', '.join(missing[:3])}{more} (shards found: {', '.join(found)})",
        fix="pass the result.json of every shard, each run without -k/-m",
    )


@click.command("merge")
@click.argument(
    "results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for result.json, junit.xml, report.html, summary.md "
    "[default: report_dir, .backtest/report].",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A result.json from main: the gate tests for regressions against it.",
)
@click.option(
    "--evalsets",
    "evalsets_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the evalsets [default: the paths the results record, "
    "relative to the working directory].",
)
def merge_command(
    results: tuple[Path, ...],
    output: Path | None,
    baseline: Path | None,
    evalsets_dir: Path | None,
) -> None:
    """Merge the result.json of every shard (pytest --agent-evals-shard I/N) and decide
    the gate once over all of them. Exits 0 (passed), 1 (gate failed, a case failed),
    6 (gate failed, every case passed) or 2 (bad input)."""
    overrides = {
        "evalsets": str(evalsets_dir) if evalsets_dir else None,
        "baseline": str(baseline) if baseline else None,
        "report_dir": str(output) if output else None,
    }
    settings = load_settings(overrides)
    shards = [(path, read_result(path)) for path in results]
    cases = merge_case_results((str(path), report.cases) for path, report in shards)
    folders = evalset_folders(evalsets_dir) if evalsets_dir else _recorded_folders(shards)
    evalsets = load_evalsets(folders, Path(settings.cache_dir))
    _check_complete(shards, cases, evalsets)
    project_root = Path.cwd()
    report = build_run_report(
        cases,
        evalsets=evalsets,
        inputs=load_gate_inputs(settings, project_root=project_root, override=override_from_env()),
        settings=settings,
        project_root=project_root,
        pyproject=find_pyproject(),
    )
    _check_same_evalsets(shards, report.evalsets)
    written = publish(report, Path(settings.report_dir))
    from agent_backtest.report.terminal import render_summary

    width = shutil.get_terminal_size((100, 24)).columns
    lines = render_summary(report, width=width).splitlines()
    lines += [f"merged {len(shards)} result file(s): {len(cases)} cases"]
    lines += closing_lines(report, written)
    lines += github_error_lines(report)
    click.echo("\n".join(lines))
    sys.exit(int(exit_code(report)))
