"""Putting a finished run report where people look; shared by the plugin and ``backtest merge``.

Writes every output file, adds the Markdown summary to the GitHub Actions job
page when running in Actions, and words the closing lines under the terminal
summary (tolerated cases, the shard hint, where the files are, the exit code).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from agent_backtest.gate.model import ExitCode
from agent_backtest.report.assemble import exit_code, relative_to, tolerated_cases
from agent_backtest.report.model import RunReport


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def publish(
    report: RunReport, folder: Path, environ: Mapping[str, str] | None = None
) -> dict[str, Path]:
    """Write result.json, junit.xml, report.html and summary.md; in Actions, the step summary."""
    from agent_backtest.report.outputs import write_all

    written = write_all(report, folder)
    env = os.environ if environ is None else environ
    target = env.get("GITHUB_STEP_SUMMARY")
    if in_github_actions(env) and target:
        from agent_backtest.report.markdown import render_step_summary

        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(render_step_summary(report).rstrip("\n") + "\n")
    return written


def github_error_lines(report: RunReport, environ: Mapping[str, str] | None = None) -> list[str]:
    """``::error file=...`` lines for GitHub to pin on the files; none outside Actions."""
    if not in_github_actions(environ):
        return []
    from agent_backtest.report.markdown import github_annotations

    return github_annotations(report)


def closing_lines(
    report: RunReport, written: Mapping[str, Path], *, enforced: bool = True
) -> list[str]:
    """Under the summary: tolerated cases, the shard hint, the files, and why the exit code.

    ``enforced`` is False when something else decides the exit code (a shard, or a
    failure that is not a case result).
    """
    lines = [f"tolerated by the gate policy: {case}" for case in tolerated_cases(report)]
    if report.shard is not None:
        lines.append(
            f"shard {report.shard}: the gate is not enforced on a shard; "
            "run 'backtest merge' on all shards' result.json"
        )
    if written:
        folder = relative_to(next(iter(written.values())).parent, Path.cwd())
        lines.append(f"reports in {folder}: {', '.join(p.name for p in written.values())}")
    code = exit_code(report)
    if enforced and report.shard is None and code is not ExitCode.OK:
        why = (
            "a case failed"
            if code is ExitCode.CASES_FAILED
            else "every case passed, but the gate did not"
        )
        lines.append(f"exit {int(code)}: the gate failed and {why}")
    return lines
