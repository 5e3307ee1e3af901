"""Every report file of one run, written into one folder (``--agent-evals-report DIR``)."""

from __future__ import annotations

from pathlib import Path

from agent_backtest.report.html import write_html
from agent_backtest.report.json_io import write_result
from agent_backtest.report.junit import write_junit
from agent_backtest.report.markdown import render_step_summary
from agent_backtest.report.model import RunReport
from agent_backtest.trace.writers import atomic_writer

# kind -> file name; the kinds are what ``write_all`` returns the paths by.
FILE_NAMES = {
    "json": "result.json",
    "junit": "junit.xml",
    "html": "report.html",
    "markdown": "summary.md",
}


def write_summary(report: RunReport, path: Path) -> None:
    with atomic_writer(path) as handle:
        handle.write(render_step_summary(report).encode("utf-8"))


_WRITERS = {
    "json": write_result,
    "junit": write_junit,
    "html": write_html,
    "markdown": write_summary,
}


def write_all(report: RunReport, folder: Path) -> dict[str, Path]:
    """Write result.json, junit.xml, report.html and summary.md; return their paths by kind.

    Each file is written atomically; result.json goes first, so the file later
    runs and merges read exists even if a renderer fails.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for kind, name in FILE_NAMES.items():
        path = folder / name
        _WRITERS[kind](report, path)
        written[kind] = path
    return written
